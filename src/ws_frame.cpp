#include <switchboard/detail/ws_frame.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace switchboard::detail::ws {

namespace {

constexpr std::size_t max_control_payload = 125;
constexpr std::size_t max_close_reason = max_control_payload - 2;

// A finished message's buffer goes to the caller, and the parser takes the caller's previous
// payload buffer in exchange, so a driver that reuses one event allocates nothing per message.
// A bigger buffer than this is dropped instead: an idle connection should not keep the memory
// of its largest message.
constexpr std::size_t kept_capacity = 4096;

bool is_control(opcode op) noexcept {
    return (static_cast<unsigned>(op) & 0x8) != 0;
}

bool is_known(opcode op) noexcept {
    switch (op) {
    case opcode::continuation:
    case opcode::text:
    case opcode::binary:
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
        return true;
    }
    return false;
}

// XORs `size` bytes with the key, starting `phase` bytes into the key's cycle. The key is laid
// out in memory twice over and applied a word at a time, which keeps the byte order right on
// any endianness.
void apply_mask(char* data, std::size_t size, const std::array<unsigned char, 4>& key,
                std::size_t phase) noexcept {
    unsigned char pattern[8];
    for (std::size_t i = 0; i < 8; ++i) {
        pattern[i] = key[(phase + i) & 3];
    }
    std::uint64_t word_key;
    std::memcpy(&word_key, pattern, 8);

    std::size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, data + i, 8);
        word ^= word_key;
        std::memcpy(data + i, &word, 8);
    }
    for (; i < size; ++i) {
        data[i] = static_cast<char>(static_cast<unsigned char>(data[i]) ^ pattern[i & 7]);
    }
}

std::size_t write_header(unsigned char* out, opcode op, std::uint64_t size, bool fin, bool masked) {
    if (!is_known(op)) {
        throw std::invalid_argument("websocket: unknown opcode");
    }
    if (is_control(op) && (size > max_control_payload || !fin)) {
        throw std::invalid_argument("websocket: control frames are unfragmented, <= 125 bytes");
    }

    out[0] = static_cast<unsigned char>((fin ? 0x80 : 0x00) | static_cast<unsigned>(op));
    const unsigned char mask_bit = masked ? 0x80 : 0x00;
    if (size < 126) {
        out[1] = static_cast<unsigned char>(mask_bit | size);
        return 2;
    }
    if (size <= 0xFFFF) {
        out[1] = mask_bit | 126;
        out[2] = static_cast<unsigned char>(size >> 8);
        out[3] = static_cast<unsigned char>(size);
        return 4;
    }
    out[1] = mask_bit | 127;
    for (std::size_t i = 0; i < 8; ++i) {
        out[2 + i] = static_cast<unsigned char>(size >> (8 * (7 - i)));
    }
    return 10;
}

} // namespace

// utf8_validator

bool utf8_validator::feed(std::string_view bytes) noexcept {
    if (failed_) {
        return false;
    }

    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t size = bytes.size();
    std::size_t i = 0;
    while (i < size) {
        if (need_ == 0) {
            // Most text is ASCII: skip it a word at a time.
            constexpr std::uint64_t high_bits = 0x8080808080808080ULL;
            while (i + 8 <= size) {
                std::uint64_t word;
                std::memcpy(&word, p + i, 8);
                if ((word & high_bits) != 0) {
                    break;
                }
                i += 8;
            }
            if (i == size) {
                break;
            }

            // A lead byte fixes the sequence length; the few leads whose first continuation
            // byte could make the sequence overlong, a surrogate or > U+10FFFF narrow its range.
            const unsigned char c = p[i++];
            if (c < 0x80) {
                continue;
            }
            low_ = 0x80;
            high_ = 0xBF;
            // A stray continuation byte, C0/C1 (always overlong) or F5..FF (past U+10FFFF).
            if (c < 0xC2 || c >= 0xF5) {
                failed_ = true;
                return false;
            }
            if (c < 0xE0) {
                need_ = 1;
            } else if (c < 0xF0) {
                need_ = 2;
                if (c == 0xE0) {
                    low_ = 0xA0;
                } else if (c == 0xED) {
                    high_ = 0x9F;
                }
            } else {
                need_ = 3;
                if (c == 0xF0) {
                    low_ = 0x90;
                } else if (c == 0xF4) {
                    high_ = 0x8F;
                }
            }
            continue;
        }

        const unsigned char c = p[i++];
        if (c < low_ || c > high_) {
            failed_ = true;
            return false;
        }
        --need_;
        low_ = 0x80;
        high_ = 0xBF;
    }
    return true;
}

void utf8_validator::reset() noexcept {
    *this = utf8_validator{};
}

bool valid_utf8(std::string_view text) noexcept {
    utf8_validator v;
    return v.feed(text) && v.complete();
}

// frame_parser

frame_parser::frame_parser(role r, std::size_t max_message, std::size_t fragment_overhead)
    : role_(r)
    , max_message_(max_message)
    , fragment_overhead_(std::max<std::size_t>(fragment_overhead, 1)) {
}

std::size_t frame_parser::parse(std::string_view data, event& ev) {
    if (state_ == state::finished) {
        report_final(ev);
        return 0;
    }

    ev.what = event::kind::need_more;
    ev.type = opcode::text;
    ev.payload.clear();
    ev.code = 0;
    ev.reason.clear();

    // Frames that produce no event (non-final fragments) are read on in the same call; the
    // loop ends at the first event or when the input runs out.
    std::size_t used = 0;
    while (true) {
        if (state_ == state::header) {
            if (used == data.size()) {
                break;
            }
            if (!take_header(data, used)) {
                report_final(ev);
                return used;
            }
            if (header_size_ < header_need_) {
                break;
            }

            // An empty payload ends the frame here, or its event would wait for more input.
            header_size_ = 0;
            header_need_ = 2;
            if (remaining_ != 0) {
                state_ = state::payload;
                continue;
            }
        } else {
            if (used == data.size()) {
                break;
            }
            take_payload(data, used);
            if (state_ == state::finished) {
                report_final(ev);
                return used;
            }
            if (remaining_ != 0) {
                break;
            }
            state_ = state::header;
        }

        if (end_frame(ev)) {
            return used;
        }
    }
    return used;
}

// Moves header bytes from data[used..] into header_ until the header is whole or the input
// ends, checking each part as soon as it is in. Returns false when the frame is refused.
bool frame_parser::take_header(std::string_view data, std::size_t& used) {
    while (header_size_ < header_need_ && used < data.size()) {
        header_[header_size_++] = static_cast<unsigned char>(data[used++]);

        bool ok = true;
        if (header_size_ == 1) {
            ok = check_first_byte();
        } else if (header_size_ == 2) {
            ok = check_second_byte();
        }
        // The length is complete once only the mask key is left to come (at once for a 7-bit
        // length, which check_second_byte() has just read).
        if (ok && header_size_ >= 2 && header_size_ == header_need_ - (masked_ ? 4 : 0)) {
            ok = check_length();
        }
        if (!ok) {
            return false;
        }
    }

    if (header_size_ == header_need_ && masked_) {
        std::memcpy(mask_.data(), header_.data() + header_need_ - 4, 4);
        mask_phase_ = 0;
    }
    return true;
}

bool frame_parser::check_first_byte() {
    const unsigned char b = header_[0];
    fin_ = (b & 0x80) != 0;
    op_ = static_cast<opcode>(b & 0x0F);

    if ((b & 0x70) != 0) {
        fail(close_code::protocol_error, "reserved bits set without an extension");
        return false;
    }
    if (!is_known(op_)) {
        fail(close_code::protocol_error, "reserved opcode");
        return false;
    }
    if (is_control(op_)) {
        if (!fin_) {
            fail(close_code::protocol_error, "fragmented control frame");
            return false;
        }
        return true;
    }
    if (op_ == opcode::continuation && !in_message_) {
        fail(close_code::protocol_error, "continuation frame without a message");
        return false;
    }
    if (op_ != opcode::continuation && in_message_) {
        fail(close_code::protocol_error, "new message before the previous one ended");
        return false;
    }
    return true;
}

bool frame_parser::check_second_byte() {
    const unsigned char b = header_[1];
    masked_ = (b & 0x80) != 0;
    const unsigned length7 = b & 0x7F;

    if (role_ == role::server && !masked_) {
        fail(close_code::protocol_error, "unmasked frame from a client");
        return false;
    }
    if (role_ == role::client && masked_) {
        fail(close_code::protocol_error, "masked frame from a server");
        return false;
    }
    // 126 and 127 announce an extended length, which a control frame can never need.
    if (is_control(op_) && length7 > max_control_payload) {
        fail(close_code::protocol_error, "control frame longer than 125 bytes");
        return false;
    }
    if (op_ == opcode::close && length7 == 1) {
        fail(close_code::protocol_error, "close frame with a 1-byte payload");
        return false;
    }

    const std::uint8_t extended = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
    header_need_ = static_cast<std::uint8_t>(2 + extended + (masked_ ? 4 : 0));
    return true;
}

// Runs once the length field is complete, before the mask key, so that an oversized frame is
// refused without waiting for anything more. Non-minimal length encodings (a 16- or 64-bit field
// holding a small value) are accepted: RFC 6455 says the minimal form must be used, but refusing
// the others protects nothing, and Autobahn does not require it.
bool frame_parser::check_length() {
    const unsigned length7 = header_[1] & 0x7F;
    std::uint64_t length = length7;
    if (length7 == 126) {
        length = (std::uint64_t{header_[2]} << 8) | header_[3];
    } else if (length7 == 127) {
        length = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            length = (length << 8) | header_[2 + i];
        }
        if ((length >> 63) != 0) {
            fail(close_code::protocol_error, "frame length with the top bit set");
            return false;
        }
    }
    remaining_ = length;

    if (is_control(op_)) {
        control_size_ = 0;
        return true;
    }

    // charged_ never exceeds max_message_, so the budget cannot underflow, and comparing
    // piecewise keeps a 63-bit length from overflowing the sum.
    const std::uint64_t budget = max_message_ - charged_;
    const std::uint64_t overhead = op_ == opcode::continuation ? fragment_overhead_ : 0;
    if (overhead > budget || length > budget - overhead) {
        fail(close_code::too_big, "message too big");
        return false;
    }
    charged_ += overhead + length;

    if (op_ != opcode::continuation) {
        in_message_ = true;
        message_type_ = op_;
    }
    return true;
}

// Moves as much of this frame's payload as data[used..] holds to where it belongs, unmasking
// it on the way. Text is checked as it arrives so that invalid UTF-8 fails the connection
// before the rest of the message is waited for.
void frame_parser::take_payload(std::string_view data, std::size_t& used) {
    const auto size =
        static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, data.size() - used));
    const char* source = data.data() + used;
    used += size;
    remaining_ -= size;

    char* target;
    if (is_control(op_)) {
        target = control_.data() + control_size_;
        std::memcpy(target, source, size);
        control_size_ = static_cast<std::uint8_t>(control_size_ + size);
    } else {
        const std::size_t old_size = message_.size();
        message_.append(source, size);
        target = message_.data() + old_size;
    }

    if (masked_) {
        apply_mask(target, size, mask_, mask_phase_);
        mask_phase_ = (mask_phase_ + size) & 3;
    }

    if (!is_control(op_) && message_type_ == opcode::text &&
        !utf8_.feed(std::string_view(target, size))) {
        fail(close_code::invalid_payload, "invalid UTF-8 in text message");
    }
}

// Called when a frame's payload is complete. Returns true when it produced an event.
bool frame_parser::end_frame(event& ev) {
    if (is_control(op_)) {
        return end_control_frame(ev);
    }
    if (!fin_) {
        return false;
    }

    if (message_type_ == opcode::text && !utf8_.complete()) {
        fail(close_code::invalid_payload, "text message ends inside a UTF-8 sequence");
        report_final(ev);
        return true;
    }

    ev.what = event::kind::message;
    ev.type = message_type_;
    ev.payload.swap(message_);
    message_.clear();
    if (message_.capacity() > kept_capacity) {
        std::string().swap(message_);
    }

    in_message_ = false;
    charged_ = 0;
    utf8_.reset();
    return true;
}

bool frame_parser::end_control_frame(event& ev) {
    const std::string_view payload(control_.data(), control_size_);
    if (op_ == opcode::ping || op_ == opcode::pong) {
        ev.what = op_ == opcode::ping ? event::kind::ping : event::kind::pong;
        ev.payload.assign(payload);
        return true;
    }

    // A close: 1-byte payloads were refused from the header already.
    state_ = state::finished;
    final_kind_ = event::kind::close;
    final_code_ = close_code::no_status;
    if (!payload.empty()) {
        final_code_ = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                                 static_cast<unsigned char>(payload[1]));
        if (!valid_close_code(final_code_)) {
            fail(close_code::protocol_error, "invalid close code");
        } else if (!valid_utf8(payload.substr(2))) {
            fail(close_code::invalid_payload, "invalid UTF-8 in close reason");
        }
    }
    report_final(ev);
    return true;
}

void frame_parser::fail(std::uint16_t code, const char* reason) {
    state_ = state::finished;
    final_kind_ = event::kind::error;
    final_code_ = code;
    final_reason_ = reason;
}

void frame_parser::report_final(event& ev) const {
    ev.what = final_kind_;
    ev.type = opcode::text;
    ev.code = final_code_;
    if (final_kind_ == event::kind::close) {
        const std::string_view payload(control_.data(), control_size_);
        ev.payload.assign(payload.empty() ? payload : payload.substr(2));
        ev.reason.clear();
    } else {
        ev.payload.clear();
        ev.reason.assign(final_reason_);
    }
}

// Encoders

std::string encode_frame(opcode op, std::string_view payload, bool fin,
                         const std::array<unsigned char, 4>* mask) {
    unsigned char header[14];
    std::size_t header_size = write_header(header, op, payload.size(), fin, mask != nullptr);
    if (mask != nullptr) {
        std::memcpy(header + header_size, mask->data(), 4);
        header_size += 4;
    }

    std::string frame;
    frame.reserve(header_size + payload.size());
    frame.append(reinterpret_cast<const char*>(header), header_size);
    frame.append(payload);
    if (mask != nullptr) {
        apply_mask(frame.data() + header_size, payload.size(), *mask, 0);
    }
    return frame;
}

std::string encode_header(opcode op, std::size_t payload_size, bool fin) {
    unsigned char header[10];
    const std::size_t size = write_header(header, op, payload_size, fin, false);
    return std::string(reinterpret_cast<const char*>(header), size);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
    if (!valid_close_code(code)) {
        throw std::invalid_argument("websocket: close code not allowed on the wire");
    }

    // Keep the longest valid prefix: feeding byte by byte tells where the last code point that
    // fits ended, and also stops at the first invalid byte.
    const std::size_t limit = std::min(reason.size(), max_close_reason);
    utf8_validator utf8;
    std::size_t keep = 0;
    for (std::size_t i = 0; i < limit; ++i) {
        if (!utf8.feed(reason.substr(i, 1))) {
            break;
        }
        if (utf8.complete()) {
            keep = i + 1;
        }
    }

    std::string payload;
    payload.reserve(2 + keep);
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason.substr(0, keep));
    return payload;
}

bool valid_close_code(std::uint16_t code) noexcept {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

} // namespace switchboard::detail::ws
