#include <switchboard/error.hpp>

namespace switchboard {

namespace {

std::string join_messages(const std::vector<std::string>& messages) {
    std::string text;
    for (const auto& m : messages) {
        if (!text.empty()) {
            text += "; ";
        }
        text += m;
    }
    return text;
}

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "switchboard"; }

    std::string message(int value) const override {
        switch (static_cast<error>(value)) {
        case error::header_timeout:
            return "request head timed out";
        case error::body_timeout:
            return "request body timed out";
        case error::idle_timeout:
            return "connection idle timeout";
        case error::write_timeout:
            return "write timed out";
        case error::server_stopping:
            return "server stopping";
        }
        return "unknown switchboard error";
    }
};

} // namespace

http_error::http_error(int status, std::string message)
    : http_error(status, std::vector<std::string>{std::move(message)}) {
}

http_error::http_error(int status, std::vector<std::string> messages)
    : std::runtime_error(join_messages(messages))
    , status_(status)
    , messages_(std::move(messages)) {
}

const std::error_category& error_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), error_category()};
}

} // namespace switchboard
