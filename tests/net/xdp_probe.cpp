// SPDX-License-Identifier: BSD-3-Clause
// cats-xdp-probe: xdp_front from the command line, for the net_af_xdp
// integration test (the dataplane's management thread makes the same calls).
//
//   cats-xdp-probe counters IFACE
//       one line per class: "name packets bytes redirect|pass"
//   cats-xdp-probe configure IFACE [--service-prefix P/96] [--local-sid P/LEN]...
//                                  [--host-addr A]... [--forward]
//
// Exit status 0, or 1 with one line on stderr saying what failed.
#include <net/if.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "addr_text.hpp"
#include "xdp_front.hpp"

namespace {

using cats::dp::xdp::XdpProgram;

int usage() {
    std::fputs("usage: cats-xdp-probe counters IFACE\n"
               "       cats-xdp-probe configure IFACE [--service-prefix P/96] [--local-sid P/LEN]...\n"
               "                                      [--host-addr A]... [--forward]\n",
               stderr);
    return 1;
}

int fail(const std::string& why) {
    std::fprintf(stderr, "cats-xdp-probe: %s\n", why.c_str());
    return 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc < 3)
        return usage();
    const std::string_view cmd = argv[1];
    const unsigned ifindex = if_nametoindex(argv[2]);
    if (ifindex == 0)
        return fail(std::string("no interface '") + argv[2] + "'");
    auto prog = XdpProgram::from_ifindex(ifindex);
    if (!prog)
        return fail(prog.error);

    if (cmd == "counters") {
        auto cs = prog.value->counters();
        if (!cs)
            return fail(cs.error);
        for (const auto& c : *cs.value)
            std::printf("%.*s %llu %llu %s\n", static_cast<int>(c.name.size()), c.name.data(),
                        static_cast<unsigned long long>(c.packets), static_cast<unsigned long long>(c.bytes),
                        c.redirected ? "redirect" : "pass");
        return 0;
    }
    if (cmd != "configure")
        return usage();

    cats::dp::xdp::XdpFilterConfig cfg;
    for (int i = 3; i < argc; ++i) {
        const std::string_view opt = argv[i];
        if (opt == "--forward") {
            cfg.non_cats_forward = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage();
        const std::string val = argv[++i];
        if (opt == "--service-prefix" || opt == "--local-sid") {
            const auto p = cats::wire::parse_ipv6_prefix(val);
            if (!p)
                return fail(std::string(opt) + ": '" + val + "' is not an IPv6 prefix");
            if (opt == "--service-prefix")
                cfg.service_sid_prefix = *p;
            else
                cfg.local_sids.push_back(*p);
        } else if (opt == "--host-addr") {
            const auto a = cats::wire::parse_ipv6(val);
            if (!a)
                return fail("--host-addr: '" + val + "' is not an IPv6 address");
            cfg.host_addrs.push_back(*a);
        } else {
            return usage();
        }
    }
    if (std::string e = prog.value->configure(cfg); !e.empty())
        return fail(e);
    return 0;
}
