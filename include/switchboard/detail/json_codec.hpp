#ifndef SWITCHBOARD_DETAIL_JSON_CODEC_HPP
#define SWITCHBOARD_DETAIL_JSON_CODEC_HPP

#include <boost/describe/enumerators.hpp>
#include <boost/describe/members.hpp>
#include <boost/describe/modifiers.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/string.hpp>
#include <boost/json/string_view.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>
#include <boost/mp11/algorithm.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace switchboard {
struct decode_options;
} // namespace switchboard

namespace switchboard::detail {

// Where the decoder stands: each frame lives on the stack of the call decoding that level and
// points at its parent, so descending costs nothing and the path only becomes text when an
// error is thrown.
class decode_context {
public:
    enum class step : unsigned char { body, member, element };

    explicit decode_context(const decode_options& options) noexcept
        : options_(&options) {}

    decode_context member(std::string_view name) const noexcept {
        return decode_context(*this, step::member, name, 0);
    }

    decode_context element(std::size_t index) const noexcept {
        return decode_context(*this, step::element, {}, index);
    }

    const decode_options& options() const noexcept { return *options_; }
    const decode_context* parent() const noexcept { return parent_; }
    step kind() const noexcept { return step_; }
    std::string_view key() const noexcept { return key_; }
    std::size_t index() const noexcept { return index_; }

private:
    decode_context(const decode_context& parent, step s, std::string_view key,
                   std::size_t index) noexcept
        : options_(parent.options_)
        , parent_(&parent)
        , step_(s)
        , key_(key)
        , index_(index) {}

    const decode_options* options_;
    const decode_context* parent_ = nullptr;
    step step_ = step::body;
    std::string_view key_;
    std::size_t index_ = 0;
};

// Everything below that builds a message or touches the options lives in src/json.cpp, so each
// instantiation carries only the walk over its own type.
[[noreturn]] void throw_kind_mismatch(const decode_context& at, std::string_view expected,
                                      const boost::json::value& got);
[[noreturn]] void throw_missing_field(const decode_context& field);
[[noreturn]] void throw_unknown_enum_value(const decode_context& at, std::string_view got);
[[noreturn]] void rethrow_decode_failure(const decode_context& at, const std::exception& e);
[[noreturn]] void throw_unnamed_enum_value(std::string_view number);
[[noreturn]] void rethrow_encode_failure(const std::exception& e);

void check_unknown_fields(const boost::json::object& object,
                          std::span<const std::string_view> known, const decode_context& at);

bool decode_bool(const boost::json::value& v, const decode_context& at);
std::int64_t decode_signed(const boost::json::value& v, const decode_context& at, std::int64_t min,
                           std::int64_t max);
std::uint64_t decode_unsigned(const boost::json::value& v, const decode_context& at,
                              std::uint64_t max);
double decode_double(const boost::json::value& v, const decode_context& at);
float decode_float(const boost::json::value& v, const decode_context& at);
std::string decode_string(const boost::json::value& v, const decode_context& at);
const boost::json::object& expect_object(const boost::json::value& v, const decode_context& at);
const boost::json::array& expect_array(const boost::json::value& v, const decode_context& at);

boost::json::value encode_double(double d);
boost::json::value encode_float(float f);

/// Serializes, refusing NaN and infinities.
std::string serialize_checked(const boost::json::value& v);

boost::json::value parse_json_into(std::string_view text, std::size_t max_depth,
                                   boost::json::storage_ptr storage);

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};
template <class T, class H, class E, class A>
struct is_string_map<std::unordered_map<std::string, T, H, E, A>> : std::true_type {};

template <class T>
inline constexpr bool is_described_struct =
    std::is_class_v<T> && !std::is_union_v<T> && boost::describe::has_describe_members<T>::value;

template <class T>
inline constexpr bool is_described_enum =
    std::conjunction_v<std::is_enum<T>, boost::describe::has_describe_enumerators<T>>;

// Inherited members count because a described base is part of the same JSON object; hidden ones
// are left out by Describe, so each name appears once.
template <class T>
using public_members = boost::describe::describe_members<T, boost::describe::mod_public |
                                                                boost::describe::mod_inherited>;

template <template <class...> class L, class... D>
constexpr std::array<std::string_view, sizeof...(D)> names_of(L<D...>) {
    return {std::string_view(D::name)...};
}

template <class T>
inline constexpr auto member_names = names_of(public_members<T>{});

template <class S, class M>
using member_type = std::remove_cvref_t<decltype(std::declval<S&>().*std::declval<M>())>;

template <class T>
T decode(const boost::json::value& v, const decode_context& at);

template <class T>
T decode_struct(const boost::json::value& v, const decode_context& at) {
    const boost::json::object& object = expect_object(v, at);

    // Unknown keys are checked first: a misspelt key then reads as "unknown field 'nmae'",
    // which points at the typo, instead of "missing field 'name'".
    check_unknown_fields(object, member_names<T>, at);

    T result{};
    boost::mp11::mp_for_each<public_members<T>>([&](auto d) {
        using D = decltype(d);
        using M = member_type<T, decltype(D::pointer)>;
        const decode_context member_at = at.member(D::name);
        const boost::json::value* field = object.if_contains(D::name);

        if constexpr (is_optional<M>::value) {
            if (field == nullptr || field->is_null()) {
                result.*D::pointer = std::nullopt;
                return;
            }
        } else if (field == nullptr) {
            throw_missing_field(member_at);
        }
        result.*D::pointer = decode<M>(*field, member_at);
    });
    return result;
}

template <class E>
E decode_enum(const boost::json::value& v, const decode_context& at) {
    if (!v.is_string())
        throw_kind_mismatch(at, "string", v);
    const boost::json::string& text = v.get_string();
    const std::string_view name(text.data(), text.size());

    std::optional<E> result;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
        if (!result && name == d.name)
            result = d.value;
    });
    if (!result)
        throw_unknown_enum_value(at, name);
    return *result;
}

template <class T>
T decode(const boost::json::value& v, const decode_context& at) {
    static_assert(!std::is_same_v<T, std::string_view> &&
                      !std::is_same_v<T, boost::json::string_view>,
                  "a decoded value must own its text: the parsed tree it points into is gone "
                  "once decoding returns; use std::string");

    if constexpr (std::is_same_v<T, bool>) {
        return decode_bool(v, at);
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        return static_cast<T>(
            decode_signed(v, at, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<T>(decode_unsigned(v, at, std::numeric_limits<T>::max()));
    } else if constexpr (std::is_same_v<T, float>) {
        return decode_float(v, at);
    } else if constexpr (std::is_floating_point_v<T>) {
        return static_cast<T>(decode_double(v, at));
    } else if constexpr (std::is_same_v<T, std::string>) {
        return decode_string(v, at);
    } else if constexpr (is_optional<T>::value) {
        if (v.is_null())
            return std::nullopt;
        return decode<typename T::value_type>(v, at);
    } else if constexpr (is_vector<T>::value) {
        const boost::json::array& array = expect_array(v, at);
        T result;
        result.reserve(array.size());
        for (std::size_t i = 0; i < array.size(); ++i)
            result.push_back(decode<typename T::value_type>(array[i], at.element(i)));
        return result;
    } else if constexpr (is_string_map<T>::value) {
        const boost::json::object& object = expect_object(v, at);
        T result;
        for (const boost::json::key_value_pair& entry : object) {
            const std::string_view key(entry.key().data(), entry.key().size());
            result.try_emplace(std::string(key),
                               decode<typename T::mapped_type>(entry.value(), at.member(key)));
        }
        return result;
    } else if constexpr (std::is_same_v<T, boost::json::value>) {
        // Copies of Boost.JSON types take the default storage: the source may live in an arena
        // that is released as soon as decode_json returns.
        return boost::json::value(v, boost::json::storage_ptr());
    } else if constexpr (std::is_same_v<T, boost::json::object>) {
        return boost::json::object(expect_object(v, at), boost::json::storage_ptr());
    } else if constexpr (std::is_same_v<T, boost::json::array>) {
        return boost::json::array(expect_array(v, at), boost::json::storage_ptr());
    } else if constexpr (std::is_same_v<T, boost::json::string>) {
        if (!v.is_string())
            throw_kind_mismatch(at, "string", v);
        return boost::json::string(v.get_string(), boost::json::storage_ptr());
    } else if constexpr (is_described_enum<T>) {
        return decode_enum<T>(v, at);
    } else if constexpr (is_described_struct<T>) {
        return decode_struct<T>(v, at);
    } else {
        // Types of their own go through the user's tag_invoke. Their elements are converted by
        // Boost.JSON too, so they do not get this file's messages or the 1.81 optional fix.
        try {
            return boost::json::value_to<T>(v);
        } catch (const std::exception& e) {
            rethrow_decode_failure(at, e);
        }
    }
}

template <class T>
boost::json::value encode(const T& x);

template <class T>
boost::json::value encode_struct(const T& x) {
    boost::json::object out;
    out.reserve(member_names<T>.size());
    boost::mp11::mp_for_each<public_members<T>>([&](auto d) {
        using D = decltype(d);
        using M = member_type<T, decltype(D::pointer)>;
        const M& member = x.*D::pointer;

        // An absent optional leaves the key out, which decodes back to nullopt; a client that
        // ignores unknown keys then never sees a null it did not expect.
        if constexpr (is_optional<M>::value) {
            if (!member)
                return;
        }
        out.emplace(D::name, encode(member));
    });
    return out;
}

template <class E>
boost::json::value encode_enum(E x) {
    std::string_view name;
    boost::mp11::mp_for_each<boost::describe::describe_enumerators<E>>([&](auto d) {
        if (name.empty() && x == d.value)
            name = d.name;
    });
    if (name.empty())
        throw_unnamed_enum_value(std::to_string(+static_cast<std::underlying_type_t<E>>(x)));
    return boost::json::string(name);
}

template <class T>
boost::json::value encode(const T& x) {
    if constexpr (std::is_same_v<T, bool>) {
        return x;
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        return static_cast<std::int64_t>(x);
    } else if constexpr (std::is_integral_v<T>) {
        return static_cast<std::uint64_t>(x);
    } else if constexpr (std::is_same_v<T, float>) {
        return encode_float(x);
    } else if constexpr (std::is_floating_point_v<T>) {
        return encode_double(static_cast<double>(x));
    } else if constexpr (std::is_same_v<T, std::string>) {
        return boost::json::string(x);
    } else if constexpr (is_optional<T>::value) {
        if (!x)
            return nullptr;
        return encode(*x);
    } else if constexpr (is_vector<T>::value) {
        boost::json::array out;
        out.reserve(x.size());
        for (const auto& element : x)
            out.push_back(encode(element));
        return out;
    } else if constexpr (is_string_map<T>::value) {
        boost::json::object out;
        out.reserve(x.size());
        for (const auto& [key, element] : x)
            out.emplace(key, encode(element));
        return out;
    } else if constexpr (std::is_same_v<T, boost::json::value> ||
                         std::is_same_v<T, boost::json::object> ||
                         std::is_same_v<T, boost::json::array> ||
                         std::is_same_v<T, boost::json::string>) {
        return boost::json::value(x, boost::json::storage_ptr());
    } else if constexpr (is_described_enum<T>) {
        return encode_enum(x);
    } else if constexpr (is_described_struct<T>) {
        return encode_struct(x);
    } else {
        try {
            return boost::json::value_from(x);
        } catch (const std::exception& e) {
            rethrow_encode_failure(e);
        }
    }
}

} // namespace switchboard::detail

#endif
