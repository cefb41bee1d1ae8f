#pragma once
// Large scratch and column memory: asking for transparent huge pages, and vectors that do not zero what they grow by.

#include <cstddef>
#include <memory>
#include <new>
#include <vector>

namespace keel {

/// Asks for transparent huge pages on the whole 2 MiB pages inside [p, p + bytes), if the range holds at least two.
/// Buffers written once front to back then take one page fault per 2 MiB instead of one per 4 KiB. Advice only:
/// nothing changes where the kernel or the machine does not have them.
void adviseHugePages(const void *p, size_t bytes);
/// Gives the pages of [p, p + bytes) back to the system (madvise MADV_DONTNEED, page-aligned range): they read as
/// zeros again and hold no memory.
void discardPages(void *p, size_t bytes);

/// An allocator whose value-initialisation (what vector::resize does) leaves the elements uninitialised: a buffer
/// about to be overwritten is not first zeroed, on top of the zeroing the kernel does for fresh pages.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
    using value_type = T;
    template <class U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() = default;
    template <class U>
    DefaultInitAllocator(const DefaultInitAllocator<U> &) noexcept
    {
    }
    template <class U>
    void construct(U *p) noexcept(std::is_nothrow_default_constructible_v<U>)
    {
        ::new (static_cast<void *>(p)) U;
    }
    template <class U, class... Args>
    void construct(U *p, Args &&...args)
    {
        std::allocator_traits<std::allocator<T>>::construct(static_cast<std::allocator<T> &>(*this), p,
                                                            std::forward<Args>(args)...);
    }
};

/// A vector for large scratch data: growing it leaves the new elements uninitialised.
template <class T>
using ScratchVector = std::vector<T, DefaultInitAllocator<T>>;

} // namespace keel
