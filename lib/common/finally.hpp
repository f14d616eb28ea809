// Internal: runs a function when a scope ends, returned from or thrown
// through — for clean-ups that must also happen on an exception (wiping
// scratch, giving back a counted place, clearing a flag).
#ifndef ADDRPOOL_LIB_COMMON_FINALLY_HPP
#define ADDRPOOL_LIB_COMMON_FINALLY_HPP

#include <utility>

namespace addrpool::detail {

template <class F>
class Finally {
public:
    explicit Finally(F f) : f_(std::move(f)) {}
    ~Finally() { f_(); }
    Finally(const Finally&) = delete;
    Finally& operator=(const Finally&) = delete;

private:
    F f_;
};

}  // namespace addrpool::detail

#endif  // ADDRPOOL_LIB_COMMON_FINALLY_HPP
