// SPDX-License-Identifier: BSD-3-Clause
#include "xdp_front.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "cats_wire.hpp"
#include "parse.hpp"

namespace cats::dp::xdp {

// One definition of each constant: the program's copies must equal
// proto-defs' and the parser's.
static_assert(CATS_XDP_SRH_TLV_CATS == wire::kSrhTlvCats);
static_assert(CATS_XDP_OPT_CATS == wire::kOptCats);
static_assert(CATS_XDP_MAX_EXT_HEADERS == kMaxExtHeaders);
static_assert(static_cast<std::size_t>(XdpClass::Count) == kXdpClassCount);
static_assert(sizeof(cats_xdp_config) == 16 && sizeof(cats_xdp_counter) == 16);
static_assert(sizeof(cats_xdp_lpm_key) == 20 && sizeof(cats_xdp_addr) == 16);

namespace {

std::string errno_text(int err) {
    return std::strerror(err < 0 ? -err : err);
}

std::string fail_text(std::string_view what, int err) {
    return std::string(what) + ": " + errno_text(err);
}

constexpr std::size_t idx(XdpMap m) {
    return static_cast<std::size_t>(m);
}

// The layout each map must have (a stale object or a foreign program with a
// map of the same name fails here, not with garbage counters).
struct MapLayout {
    std::uint32_t type;
    std::uint32_t key_size;
    std::uint32_t value_size;
};

constexpr std::array<MapLayout, idx(XdpMap::Count)> kLayouts = {{
    {BPF_MAP_TYPE_XSKMAP, 4, 4},
    {BPF_MAP_TYPE_ARRAY, 4, sizeof(cats_xdp_config)},
    {BPF_MAP_TYPE_LPM_TRIE, sizeof(cats_xdp_lpm_key), 1},
    {BPF_MAP_TYPE_HASH, sizeof(cats_xdp_addr), 1},
    {BPF_MAP_TYPE_PERCPU_ARRAY, 4, sizeof(cats_xdp_counter)},
}};

std::string check_layout(XdpMap m, int fd) {
    bpf_map_info info{};
    std::uint32_t len = sizeof info;
    if (const int err = bpf_obj_get_info_by_fd(fd, &info, &len); err != 0)
        return fail_text("bpf_obj_get_info_by_fd(map " + std::string(kXdpMapNames[idx(m)]) + ")", err);
    const MapLayout& want = kLayouts[idx(m)];
    if (info.type != want.type || info.key_size != want.key_size || info.value_size != want.value_size)
        return "map " + std::string(kXdpMapNames[idx(m)]) + " has type " + std::to_string(info.type) +
               ", key " + std::to_string(info.key_size) + ", value " + std::to_string(info.value_size) +
               " bytes; cats_xdp.h expects " + std::to_string(want.type) + ", " +
               std::to_string(want.key_size) + ", " + std::to_string(want.value_size) +
               " (an object built from another version?)";
    if (m == XdpMap::Verdicts && info.max_entries != kXdpClassCount)
        return "map verdicts has " + std::to_string(info.max_entries) + " entries, expected " +
               std::to_string(kXdpClassCount) + " (an object built from another version?)";
    return {};
}

// Prefix bits past `len` cleared, as the LPM trie compares them.
cats_xdp_lpm_key lpm_key(const wire::Ipv6Prefix& p) {
    cats_xdp_lpm_key k{};
    k.prefixlen = p.len;
    for (std::size_t i = 0; i < 16; ++i) {
        const unsigned bits = p.len > i * 8 ? std::min<unsigned>(8, p.len - static_cast<unsigned>(i * 8)) : 0;
        const std::uint8_t mask = bits == 0 ? 0 : static_cast<std::uint8_t>(0xFF << (8 - bits));
        k.addr[i] = p.addr[i] & mask;
    }
    return k;
}

// Make the map `fd` hold exactly `want` (keys of `Key`, value 1). Inserts
// first and deletes after, unless both sets together would not fit.
template <class Key>
std::string sync_set(int fd, std::string_view name, const std::vector<Key>& want, std::size_t max_entries) {
    const auto bytes = [](const Key& k) {
        std::array<std::uint8_t, sizeof(Key)> b;
        std::memcpy(b.data(), &k, sizeof k);
        return b;
    };
    std::set<std::array<std::uint8_t, sizeof(Key)>> wanted;
    for (const Key& k : want)
        wanted.insert(bytes(k));

    std::vector<Key> stale;
    std::size_t existing = 0;
    Key cur{};
    Key next{};
    const Key* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        ++existing;
        if (!wanted.contains(bytes(next)))
            stale.push_back(next);
        cur = next;
        prev = &cur;
    }
    const auto remove_stale = [&]() -> std::string {
        for (const Key& k : stale)
            if (const int err = bpf_map_delete_elem(fd, &k); err != 0 && err != -ENOENT)
                return fail_text("deleting from " + std::string(name), err);
        return {};
    };
    const bool delete_first = existing - stale.size() + wanted.size() > max_entries ||
                              existing + wanted.size() > max_entries;
    if (delete_first)
        if (std::string e = remove_stale(); !e.empty())
            return e;
    const std::uint8_t one = 1;
    for (const Key& k : want)
        if (const int err = bpf_map_update_elem(fd, &k, &one, BPF_ANY); err != 0)
            return fail_text("inserting into " + std::string(name), err);
    if (!delete_first)
        return remove_stale();
    return {};
}

}  // namespace

XdpProgram::XdpProgram(XdpProgram&& o) noexcept {
    *this = std::move(o);
}

XdpProgram& XdpProgram::operator=(XdpProgram&& o) noexcept {
    if (this != &o) {
        close_all();
        obj_ = std::exchange(o.obj_, nullptr);
        prog_fd_ = std::exchange(o.prog_fd_, -1);
        prog_id_ = std::exchange(o.prog_id_, 0);
        map_fds_ = std::exchange(o.map_fds_, {-1, -1, -1, -1, -1});
        own_map_fds_ = std::exchange(o.own_map_fds_, false);
        attached_ifindex_ = std::exchange(o.attached_ifindex_, 0);
        attach_flags_ = std::exchange(o.attach_flags_, 0);
    }
    return *this;
}

XdpProgram::~XdpProgram() {
    close_all();
}

void XdpProgram::close_all() noexcept {
    // Nothing to report to from a destructor: a failed detach leaves the
    // program attached, which the next load_and_attach() reports (EEXIST
    // through XDP_FLAGS_UPDATE_IF_NOEXIST).
    (void)detach();
    if (own_map_fds_)
        for (int& fd : map_fds_)
            if (fd >= 0)
                ::close(fd);
    map_fds_ = {-1, -1, -1, -1, -1};
    own_map_fds_ = false;
    if (obj_ != nullptr) {
        bpf_object__close(obj_);  // closes the program's and the maps' fds
        obj_ = nullptr;
    } else if (prog_fd_ >= 0) {
        ::close(prog_fd_);
    }
    prog_fd_ = -1;
    prog_id_ = 0;
}

std::string XdpProgram::find_maps() {
    if (obj_ != nullptr) {
        for (std::size_t i = 0; i < map_fds_.size(); ++i) {
            const std::string name(kXdpMapNames[i]);
            const bpf_map* m = bpf_object__find_map_by_name(obj_, name.c_str());
            if (m == nullptr)
                return "the object has no map '" + name + "'";
            map_fds_[i] = bpf_map__fd(m);
        }
    } else {
        bpf_prog_info info{};
        std::uint32_t len = sizeof info;
        if (const int err = bpf_obj_get_info_by_fd(prog_fd_, &info, &len); err != 0)
            return fail_text("bpf_obj_get_info_by_fd(program)", err);
        std::vector<std::uint32_t> ids(info.nr_map_ids);
        const std::uint32_t nr = info.nr_map_ids;
        info = bpf_prog_info{};
        info.nr_map_ids = nr;
        info.map_ids = reinterpret_cast<std::uintptr_t>(ids.data());
        len = sizeof info;
        if (const int err = bpf_obj_get_info_by_fd(prog_fd_, &info, &len); err != 0)
            return fail_text("bpf_obj_get_info_by_fd(program)", err);
        own_map_fds_ = true;
        for (std::uint32_t i = 0; i < std::min(nr, info.nr_map_ids); ++i) {
            const int fd = bpf_map_get_fd_by_id(ids[i]);
            if (fd < 0)
                return fail_text("bpf_map_get_fd_by_id(" + std::to_string(ids[i]) + ")", fd);
            bpf_map_info mi{};
            std::uint32_t mlen = sizeof mi;
            if (const int err = bpf_obj_get_info_by_fd(fd, &mi, &mlen); err != 0) {
                ::close(fd);
                return fail_text("bpf_obj_get_info_by_fd(map)", err);
            }
            const auto it = std::find(kXdpMapNames.begin(), kXdpMapNames.end(), std::string_view(mi.name));
            const std::size_t k = static_cast<std::size_t>(it - kXdpMapNames.begin());
            if (it == kXdpMapNames.end() || map_fds_[k] >= 0) {
                ::close(fd);  // .rodata or a map of another program
                continue;
            }
            map_fds_[k] = fd;
        }
        for (std::size_t i = 0; i < map_fds_.size(); ++i)
            if (map_fds_[i] < 0)
                return "the XDP program (id " + std::to_string(prog_id_) + ", '" + info.name +
                       "') has no map '" + std::string(kXdpMapNames[i]) + "': not cats_xdp.bpf.o";
    }
    for (std::size_t i = 0; i < map_fds_.size(); ++i)
        if (std::string e = check_layout(static_cast<XdpMap>(i), map_fds_[i]); !e.empty())
            return e;
    return {};
}

XdpResult<XdpProgram> XdpProgram::from_ifindex(unsigned ifindex) {
    std::uint32_t id = 0;
    if (const int err = bpf_xdp_query_id(static_cast<int>(ifindex), 0, &id); err != 0)
        return XdpResult<XdpProgram>::fail(fail_text("bpf_xdp_query_id(ifindex " + std::to_string(ifindex) + ")", err));
    if (id == 0)
        return XdpResult<XdpProgram>::fail("no XDP program is attached to ifindex " + std::to_string(ifindex));
    XdpProgram p;
    p.prog_id_ = id;
    p.prog_fd_ = bpf_prog_get_fd_by_id(id);
    if (p.prog_fd_ < 0) {
        const int err = p.prog_fd_;
        p.prog_fd_ = -1;
        return XdpResult<XdpProgram>::fail(fail_text("bpf_prog_get_fd_by_id(" + std::to_string(id) + ")", err));
    }
    if (std::string e = p.find_maps(); !e.empty())
        return XdpResult<XdpProgram>::fail(std::move(e));
    return {std::move(p), {}};
}

XdpResult<XdpProgram> XdpProgram::load(const std::string& path) {
    XdpProgram p;
    p.obj_ = bpf_object__open_file(path.c_str(), nullptr);
    if (p.obj_ == nullptr)
        return XdpResult<XdpProgram>::fail(fail_text("opening " + path, errno));
    if (const int err = bpf_object__load(p.obj_); err != 0)
        return XdpResult<XdpProgram>::fail(fail_text("loading " + path + " (the verifier's log is on stderr)", err));
    // net_af_xdp attaches the object's first program; so do we.
    const bpf_program* prog = bpf_object__next_program(p.obj_, nullptr);
    if (prog == nullptr)
        return XdpResult<XdpProgram>::fail(path + " has no program");
    p.prog_fd_ = bpf_program__fd(prog);
    bpf_prog_info info{};
    std::uint32_t len = sizeof info;
    if (const int err = bpf_obj_get_info_by_fd(p.prog_fd_, &info, &len); err != 0)
        return XdpResult<XdpProgram>::fail(fail_text("bpf_obj_get_info_by_fd(program)", err));
    p.prog_id_ = info.id;
    if (std::string e = p.find_maps(); !e.empty())
        return XdpResult<XdpProgram>::fail(path + ": " + e);
    return {std::move(p), {}};
}

XdpResult<XdpProgram> XdpProgram::load_and_attach(const std::string& path, unsigned ifindex, AttachMode mode) {
    XdpResult<XdpProgram> r = load(path);
    if (!r)
        return r;
    XdpProgram& p = *r.value;
    // Never replace a program that is already there: it may be another
    // port's or another process's (net_af_xdp uses the same flag).
    std::uint32_t flags = XDP_FLAGS_UPDATE_IF_NOEXIST;
    if (mode == AttachMode::Native)
        flags |= XDP_FLAGS_DRV_MODE;
    else if (mode == AttachMode::Generic)
        flags |= XDP_FLAGS_SKB_MODE;
    if (const int err = bpf_xdp_attach(static_cast<int>(ifindex), p.prog_fd_, flags, nullptr); err != 0)
        return XdpResult<XdpProgram>::fail(
            fail_text("attaching to ifindex " + std::to_string(ifindex) +
                          (err == -EEXIST || err == -EBUSY ? " (a program is already attached)" : ""),
                      err));
    p.attached_ifindex_ = ifindex;
    p.attach_flags_ = flags & (XDP_FLAGS_DRV_MODE | XDP_FLAGS_SKB_MODE);
    return r;
}

std::string XdpProgram::detach() {
    if (attached_ifindex_ == 0)
        return {};
    // Only if it is still ours: XDP_FLAGS_REPLACE with our fd as the old one.
    LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = prog_fd_);
    const int err = bpf_xdp_detach(static_cast<int>(attached_ifindex_), attach_flags_ | XDP_FLAGS_REPLACE, &opts);
    const unsigned ifindex = std::exchange(attached_ifindex_, 0);
    if (err != 0 && err != -ENODEV)
        return fail_text("detaching from ifindex " + std::to_string(ifindex), err);
    return {};
}

std::string XdpProgram::configure(const XdpFilterConfig& cfg) {
    // Every check first: nothing is written unless all of it can be.
    if (cfg.service_sid_prefix && cfg.service_sid_prefix->len != 96)
        return "service_sid_prefix: a /96 is required, got /" + std::to_string(cfg.service_sid_prefix->len);
    if (cfg.local_sids.size() > CATS_XDP_MAX_LOCAL_SIDS)
        return "local_sids: " + std::to_string(cfg.local_sids.size()) + " prefixes, at most " +
               std::to_string(CATS_XDP_MAX_LOCAL_SIDS);
    for (std::size_t i = 0; i < cfg.local_sids.size(); ++i)
        if (cfg.local_sids[i].len > 128)
            return "local_sids[" + std::to_string(i) + "]: prefix length " +
                   std::to_string(cfg.local_sids[i].len) + " > 128";
    if (cfg.host_addrs.size() > CATS_XDP_MAX_HOST_ADDRS)
        return "host_addrs: " + std::to_string(cfg.host_addrs.size()) + " addresses, at most " +
               std::to_string(CATS_XDP_MAX_HOST_ADDRS);

    cats_xdp_config c{};
    if (cfg.service_sid_prefix) {
        std::memcpy(c.service_prefix, cfg.service_sid_prefix->addr.data(), sizeof c.service_prefix);
        c.service_prefix_set = 1;
    }
    c.non_cats_forward = cfg.non_cats_forward ? 1 : 0;
    const std::uint32_t zero = 0;
    if (const int err = bpf_map_update_elem(map_fd(XdpMap::Config), &zero, &c, BPF_ANY); err != 0)
        return fail_text("updating cats_config", err);

    std::vector<cats_xdp_lpm_key> sids;
    sids.reserve(cfg.local_sids.size());
    for (const wire::Ipv6Prefix& p : cfg.local_sids)
        sids.push_back(lpm_key(p));
    if (std::string e = sync_set(map_fd(XdpMap::LocalSids), "local_sids", sids, CATS_XDP_MAX_LOCAL_SIDS);
        !e.empty())
        return e;

    std::vector<cats_xdp_addr> addrs(cfg.host_addrs.size());
    for (std::size_t i = 0; i < addrs.size(); ++i)
        std::memcpy(addrs[i].addr, cfg.host_addrs[i].data(), 16);
    return sync_set(map_fd(XdpMap::HostAddrs), "host_addrs", addrs, CATS_XDP_MAX_HOST_ADDRS);
}

XdpResult<std::vector<XdpCounter>> XdpProgram::counters() const {
    using R = XdpResult<std::vector<XdpCounter>>;
    const int ncpus = libbpf_num_possible_cpus();
    if (ncpus <= 0)
        return R::fail(fail_text("libbpf_num_possible_cpus", ncpus));
    // A per-CPU lookup fills one value per possible CPU, each rounded up to
    // 8 bytes (16 already is).
    std::vector<cats_xdp_counter> per_cpu(static_cast<std::size_t>(ncpus));
    std::vector<XdpCounter> out;
    out.reserve(kXdpClassCount);
    for (std::uint32_t k = 0; k < kXdpClassCount; ++k) {
        if (const int err = bpf_map_lookup_elem(map_fd(XdpMap::Verdicts), &k, per_cpu.data()); err != 0)
            return R::fail(fail_text("reading verdicts[" + std::to_string(k) + "]", err));
        XdpCounter c;
        c.cls = static_cast<XdpClass>(k);
        c.name = kXdpClassNames[k];
        c.redirected = redirected(c.cls);
        for (const cats_xdp_counter& v : per_cpu) {
            c.packets += v.packets;
            c.bytes += v.bytes;
        }
        out.push_back(c);
    }
    return {std::move(out), {}};
}

}  // namespace cats::dp::xdp
