#include <switchboard/router.hpp>

#include <switchboard/detail/route_table.hpp>

namespace switchboard {

router::router()
    : table_(std::make_unique<detail::route_table>()) {
}

router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;
router::~router() = default;

router& router::add(std::string_view method, std::string_view pattern, handler h,
                    route_options options) {
    if (!h) {
        throw std::invalid_argument("route handler is empty");
    }
    auto index = table_->add(method, pattern);
    // route_table numbers routes 0, 1, 2... in the order they were added.
    if (index != entries_.size()) {
        throw std::logic_error("route table and handler list disagree");
    }
    entries_.push_back({std::move(h), std::move(options)});
    return *this;
}

router& router::get(std::string_view pattern, handler h, route_options options) {
    return add("GET", pattern, std::move(h), std::move(options));
}

router& router::post(std::string_view pattern, handler h, route_options options) {
    return add("POST", pattern, std::move(h), std::move(options));
}

router& router::put(std::string_view pattern, handler h, route_options options) {
    return add("PUT", pattern, std::move(h), std::move(options));
}

router& router::patch(std::string_view pattern, handler h, route_options options) {
    return add("PATCH", pattern, std::move(h), std::move(options));
}

router& router::del(std::string_view pattern, handler h, route_options options) {
    return add("DELETE", pattern, std::move(h), std::move(options));
}

} // namespace switchboard
