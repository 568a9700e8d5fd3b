// switchboard: REST requests and WebSocket subscriptions from the shell, with Switchboard's own
// client. `switchboard --help` is the manual.
#include <switchboard/client.hpp>
#include <switchboard/log.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace sb = switchboard;
namespace asio = boost::asio;

constexpr std::string_view help_text =
    R"(switchboard - REST requests and WebSocket subscriptions from the shell

usage:
  switchboard get URL [options]
  switchboard post URL JSON [options]
  switchboard subscribe WS_URL [--count N] [--skip N] [options]
  switchboard send WS_URL MESSAGE... [options]
  switchboard --help

commands:
  get URL              GET the URL and print the response body.
  post URL JSON        POST the JSON text (checked before it is sent) and print the
                       response body.
  subscribe WS_URL     Open a WebSocket and print each message on its own line as it
                       arrives, until the server closes, N messages have arrived
                       (--count), or Ctrl-C.
  send WS_URL MSG...   Open a WebSocket, send each MESSAGE as a text message, then close
                       with 1000 and wait for the server to answer the close.

options:
  --count N            subscribe: exit after N messages (not counting skipped ones)
  --skip N             subscribe: do not print the first N messages, such as the
                       greeting a server sends when a subscription starts
  -H, --header 'Name: value'
                       add a request or handshake header; repeatable
  --protocol NAME      offer a WebSocket subprotocol; repeatable
  --timeout SECONDS    limit for connecting (TLS handshake included), for a request and
                       its response, and for the WebSocket handshake (default 10)
  --cacert FILE        trust only the CA certificates in this PEM file for https://
                       and wss:// (default: the system's trust store)
  --capath DIR         trust only the CA certificates in this hashed directory
  --resolve HOST:ADDRESS
                       connect to ADDRESS (IPv4 or IPv6) whenever a URL names HOST;
                       the Host header, SNI and the certificate check still use HOST;
                       repeatable
  --insecure-skip-certificate-verification
                       accept any certificate from anyone: encrypted but NOT
                       authenticated, for test servers only; prints a warning
  -v, --verbose        log what the client does on stderr
  -h, --help           show this text

URLs are http:// or https://host:port/path?query for get and post, ws:// or
wss://host:port/path?query for subscribe and send. Over TLS the server's certificate
must be trusted, valid now and name the URL's host (its IP address for an IP URL).

output:
  Response bodies (get, post) and received messages (subscribe) go to stdout, one
  message per line; send prints nothing on success. A binary message is printed as
  "base64:" and its base64. Errors go to stderr and start with "switchboard: ".

exit status:
  0    success; for subscribe, the server closed normally (1000) or --count was reached
  1    bad usage: unknown command or option, bad URL, JSON that does not parse, a
       CA file or directory that cannot be loaded
  2    no connection: refused, timed out, certificate rejected, TLS handshake
       failed, upgrade refused, invalid handshake
  3    the server answered with a status outside 2xx (status and errors on stderr)
  4    the WebSocket closed with a code other than 1000, or the connection broke
       (code and reason on stderr)
  130  subscribe was interrupted (Ctrl-C); the WebSocket was closed properly first

examples (against the demo server, switchboard-demo, on its default port):
  switchboard get http://127.0.0.1:8080/jobs/1
  switchboard post http://127.0.0.1:8080/jobs/1/events '{"progress": 42}'
  switchboard subscribe ws://127.0.0.1:8080/jobs/1/subscribe --skip 1 --count 3
  switchboard send ws://127.0.0.1:8080/jobs/1/subscribe '{"type":"ping","n":1}'
  switchboard get https://api.test:8443/health --cacert ca.pem --resolve api.test:127.0.0.1
)";

enum exit_code : int {
    exit_ok = 0,
    exit_usage = 1,
    exit_no_connection = 2,
    exit_http_status = 3,
    exit_ws_closed = 4,
    exit_interrupted = 130,
};

struct usage_error {
    std::string message;
};

struct command_line {
    std::string command;
    std::vector<std::string> positional;
    std::optional<std::size_t> count;
    std::size_t skip = 0;
    sb::header_list headers;
    std::vector<std::string> protocols;
    std::chrono::milliseconds timeout{10'000};
    sb::tls_options tls;
    std::vector<sb::resolve_entry> resolve;
    bool verbose = false;
    bool help = false;
};

std::size_t parse_count(std::string_view option, std::string_view text) {
    std::size_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        throw usage_error{std::string(option) + " needs a whole number, got '" + std::string(text) +
                          "'"};
    }
    return value;
}

command_line parse_command_line(int argc, char** argv) {
    command_line cl;
    std::vector<std::string_view> args(argv + 1, argv + argc);
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto arg = args[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= args.size()) {
                throw usage_error{std::string(arg) + " needs a value"};
            }
            return args[++i];
        };

        if (arg == "-h" || arg == "--help") {
            cl.help = true;
        } else if (arg == "-v" || arg == "--verbose") {
            cl.verbose = true;
        } else if (arg == "--count") {
            cl.count = parse_count(arg, value());
        } else if (arg == "--skip") {
            cl.skip = parse_count(arg, value());
        } else if (arg == "--timeout") {
            const auto seconds = parse_count(arg, value());
            if (seconds == 0) {
                throw usage_error{"--timeout needs at least 1 second"};
            }
            cl.timeout = std::chrono::seconds(seconds);
        } else if (arg == "-H" || arg == "--header") {
            const auto field = value();
            const auto colon = field.find(':');
            if (colon == std::string_view::npos || colon == 0) {
                throw usage_error{"a header is written 'Name: value', got '" + std::string(field) +
                                  "'"};
            }
            auto text = field.substr(colon + 1);
            while (!text.empty() && text.front() == ' ') {
                text.remove_prefix(1);
            }
            cl.headers.emplace_back(std::string(field.substr(0, colon)), std::string(text));
        } else if (arg == "--protocol") {
            cl.protocols.emplace_back(value());
        } else if (arg == "--cacert") {
            cl.tls.ca_file = value();
        } else if (arg == "--capath") {
            cl.tls.ca_dir = value();
        } else if (arg == "--insecure-skip-certificate-verification") {
            cl.tls.insecure_skip_certificate_verification = true;
        } else if (arg == "--resolve") {
            // Split at the first colon: a host name has none, an IPv6 address several.
            const auto entry = value();
            const auto colon = entry.find(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 == entry.size()) {
                throw usage_error{"--resolve is written HOST:ADDRESS, got '" + std::string(entry) +
                                  "'"};
            }
            cl.resolve.push_back(
                {std::string(entry.substr(0, colon)), std::string(entry.substr(colon + 1))});
        } else if (arg == "--") {
            cl.positional.insert(cl.positional.end(), args.begin() + static_cast<long>(i) + 1,
                                 args.end());
            break;
        } else if (arg.size() > 1 && arg.front() == '-') {
            throw usage_error{"unknown option '" + std::string(arg) + "'"};
        } else if (cl.command.empty()) {
            cl.command = arg;
        } else {
            cl.positional.emplace_back(arg);
        }
    }
    return cl;
}

void check_arguments(const command_line& cl) {
    auto need = [&](std::size_t low, std::size_t high, std::string_view shape) {
        if (cl.positional.size() < low || cl.positional.size() > high) {
            throw usage_error{"usage: switchboard " + cl.command + " " + std::string(shape)};
        }
    };
    if (cl.command == "get") {
        need(1, 1, "URL");
    } else if (cl.command == "post") {
        need(2, 2, "URL JSON");
    } else if (cl.command == "subscribe") {
        need(1, 1, "WS_URL [--count N] [--skip N]");
    } else if (cl.command == "send") {
        need(2, SIZE_MAX, "WS_URL MESSAGE...");
    } else if (cl.command.empty()) {
        throw usage_error{"no command given"};
    } else {
        throw usage_error{"unknown command '" + cl.command + "'"};
    }
    if ((cl.count || cl.skip != 0) && cl.command != "subscribe") {
        throw usage_error{"--count and --skip apply to subscribe only"};
    }
    if (!cl.protocols.empty() && cl.command != "subscribe" && cl.command != "send") {
        throw usage_error{"--protocol applies to subscribe and send only"};
    }
}

void fail_line(std::string_view text) {
    std::cerr << "switchboard: " << text << '\n';
}

std::string base64(std::string_view data) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::uint32_t group = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) {
            group |= static_cast<unsigned char>(data[i + 1]) << 8;
        }
        if (i + 2 < data.size()) {
            group |= static_cast<unsigned char>(data[i + 2]);
        }
        out.push_back(alphabet[(group >> 18) & 63]);
        out.push_back(alphabet[(group >> 12) & 63]);
        out.push_back(i + 1 < data.size() ? alphabet[(group >> 6) & 63] : '=');
        out.push_back(i + 2 < data.size() ? alphabet[group & 63] : '=');
    }
    return out;
}

void print_body(const std::string& body) {
    std::cout << body;
    if (!body.empty() && body.back() != '\n') {
        std::cout << '\n';
    }
    std::cout.flush();
}

// Turns a client failure into its line on stderr and the exit status it stands for.
int report(const sb::client_error& e) {
    fail_line(e.what());
    const auto& code = e.code();
    if (code == sb::client_errc::bad_url || code == sb::client_errc::unsupported_scheme ||
        code == sb::client_errc::bad_tls_options) {
        return exit_usage;
    }
    if (code == sb::client_errc::http_status) {
        // what() names the status and the server's errors; a body without an errors list may
        // still say what went wrong.
        if (e.errors().empty() && !e.body().empty()) {
            std::cerr << e.body() << (e.body().back() == '\n' ? "" : "\n");
        }
        return exit_http_status;
    }
    if (code == sb::client_errc::upgrade_refused && e.errors().empty() && !e.body().empty()) {
        std::cerr << e.body() << (e.body().back() == '\n' ? "" : "\n");
    }
    return exit_no_connection;
}

int report_close(const sb::ws_close_status& status) {
    std::cerr << "switchboard: connection closed: " << status.code;
    if (!status.reason.empty()) {
        std::cerr << " " << status.reason;
    }
    std::cerr << '\n';
    return status.code == 1000 ? exit_ok : exit_ws_closed;
}

asio::awaitable<int> run_http(command_line cl) {
    auto executor = co_await asio::this_coro::executor;
    sb::http_client_options options;
    options.connect_timeout = cl.timeout;
    options.request_timeout = cl.timeout;
    options.tls = cl.tls;
    options.resolve = cl.resolve;
    sb::http_client client(executor, options);

    boost::json::value body;
    if (cl.command == "post") {
        try {
            body = sb::parse_json(cl.positional[1]);
        } catch (const sb::json_error& e) {
            throw usage_error{std::string("the JSON argument does not parse: ") + e.what()};
        }
    }

    sb::client_response res;
    if (cl.command == "post") {
        res = co_await client.request<sb::client_response>("POST", cl.positional[0], body,
                                                           cl.headers);
    } else {
        res = co_await client.request<sb::client_response>("GET", cl.positional[0], sb::no_body(),
                                                           cl.headers);
    }
    print_body(res.body);
    co_return exit_ok;
}

sb::ws_connect_options ws_options(const command_line& cl) {
    sb::ws_connect_options options;
    options.subprotocols = cl.protocols;
    options.headers = cl.headers;
    options.connect_timeout = cl.timeout;
    options.handshake_timeout = cl.timeout;
    options.tls = cl.tls;
    options.resolve = cl.resolve;
    return options;
}

void print_message(const sb::ws_message& message) {
    if (message.binary) {
        std::cout << "base64:" << base64(message.data) << '\n';
    } else {
        std::cout << message.data << '\n';
    }
    std::cout.flush();
}

asio::awaitable<void> close_on_signal(std::shared_ptr<asio::signal_set> signals,
                                      sb::websocket_client ws, std::shared_ptr<bool> interrupted) {
    auto [ec, number] = co_await signals->async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec) {
        *interrupted = true;
        co_await ws.close(1000, "interrupted");
    }
}

asio::awaitable<int> run_subscribe(command_line cl) {
    auto executor = co_await asio::this_coro::executor;
    auto ws = co_await sb::websocket_client::connect(executor, cl.positional[0], ws_options(cl));

    // Ctrl-C closes the WebSocket properly; the read loop below then sees the end. The waiter
    // ends either way before this function returns: by the signal, or by the cancel below.
    auto signals = std::make_shared<asio::signal_set>(executor, SIGINT, SIGTERM);
    auto interrupted = std::make_shared<bool>(false);
    asio::co_spawn(executor, close_on_signal(signals, ws, interrupted),
                   [](const std::exception_ptr& e) {
                       if (e) {
                           fail_line("could not close the WebSocket after a signal");
                       }
                   });

    std::size_t seen = 0;
    std::size_t printed = 0;
    while (!cl.count || printed < *cl.count) {
        auto message = co_await ws.read();
        if (!message) {
            break;
        }
        if (seen++ < cl.skip) {
            continue;
        }
        print_message(*message);
        ++printed;
    }

    if (cl.count && printed == *cl.count) {
        signals->cancel();
        co_await ws.close(1000);
        co_return exit_ok;
    }
    const auto status = co_await ws.closed();
    signals->cancel();
    if (*interrupted) {
        co_return exit_interrupted;
    }
    co_return report_close(status);
}

asio::awaitable<int> run_send(command_line cl) {
    auto executor = co_await asio::this_coro::executor;
    auto ws = co_await sb::websocket_client::connect(executor, cl.positional[0], ws_options(cl));
    for (std::size_t i = 1; i < cl.positional.size(); ++i) {
        co_await ws.send_text(cl.positional[i]);
    }
    const auto status = co_await ws.close(1000);
    if (status.code != 1000) {
        co_return report_close(status);
    }
    co_return exit_ok;
}

asio::awaitable<int> run(command_line cl) {
    try {
        if (cl.command == "get" || cl.command == "post") {
            co_return co_await run_http(std::move(cl));
        }
        if (cl.command == "subscribe") {
            co_return co_await run_subscribe(std::move(cl));
        }
        co_return co_await run_send(std::move(cl));
    } catch (const sb::client_error& e) {
        co_return report(e);
    } catch (const usage_error& e) {
        fail_line(e.message);
        co_return exit_usage;
    } catch (const std::invalid_argument& e) {
        fail_line(e.what());
        co_return exit_usage;
    }
}

} // namespace

int main(int argc, char** argv) {
    command_line cl;
    try {
        cl = parse_command_line(argc, argv);
        if (cl.help) {
            std::cout << help_text;
            return exit_ok;
        }
        check_arguments(cl);
    } catch (const usage_error& e) {
        fail_line(e.message);
        std::cerr << "Try 'switchboard --help'.\n";
        return exit_usage;
    }
    if (cl.verbose) {
        sb::set_log_sink(sb::stderr_log_sink(), sb::log_level::debug);
    }
    if (cl.tls.insecure_skip_certificate_verification) {
        fail_line("warning: --insecure-skip-certificate-verification: the server's certificate "
                  "is not checked, so anyone in between can read and change this connection");
    }

    asio::io_context io;
    int status = exit_no_connection;
    asio::co_spawn(io, run(std::move(cl)), [&status](std::exception_ptr e, int code) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                fail_line(ex.what());
            }
            return;
        }
        status = code;
    });
    io.run();
    return status;
}
