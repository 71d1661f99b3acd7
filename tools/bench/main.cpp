// SPDX-License-Identifier: BSD-3-Clause
// cats-bench: EAL options, then `--`, then benchmark options. Prints a table
// for people on stdout and, with --json, every figure as JSON.
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cats_version.h"
#include "control_bench.hpp"
#include "eal_exit.hpp"
#include "engine_bench.hpp"
#include "thp_heap.hpp"

namespace {

using namespace cats::bench;

// A command-line error: one line, and where to look (as every cats
// program says it).
void usage_error(const std::string& what) {
    std::fprintf(stderr, "cats-bench: %s\n  (cats-bench --help for usage)\n", what.c_str());
}

void usage(const char* prog, FILE* out = stderr) {
    std::fprintf(out,
                 "usage: %s [EAL options] -- [options]\n"
                 "  --flows LIST        concurrent flows per workload (1000,64000,1000000)\n"
                 "  --services LIST     services of 8 instances each (10,1000)\n"
                 "  --workers LIST      worker lcores (1,2); EAL needs as many lcores (-l)\n"
                 "  --encodings LIST    srh_tlv,dest_opt,service_sid (all); also srh_tlv_hmac (with an SRH HMAC TLV, verified)\n"
                 "  --modes LIST        io,l3fwd,cats,newflow,end.dx6 (all; io is 'restore' from memory;\n"
                 "                      end.dx6: the egress on SRv6 packets of 1 and 3 SIDs)\n"
                 "  --duration SEC      measured window of each run (0.5)\n"
                 "  --warmup SEC        minimum warm-up before it (0.1)\n"
                 "  --payload BYTES     UDP payload of every packet (32)\n"
                 "  --no-pmd            skip the net_pcap runs\n"
                 "  --no-memory         skip the in-memory runs\n"
                 "  --tmpdir DIR        where input pcaps are written (/tmp)\n"
                 "  --json FILE         write every figure as JSON to FILE ('-': stdout)\n"
                 "  --no-engine         skip the dataplane runs\n"
                 "  --no-control        skip the cats-control runs\n"
                 "  --control-bin PATH  cats-control to run (default: next to cats-bench, or in the build tree)\n"
                 "  --updates-rate N    advertisements per second during forwarding (10000)\n"
                 "  --smoke             tiny and fast: 1000 flows, 10 services, 1 worker, 0.05 s runs\n",
                 prog);
}

template <typename T>
bool parse_list(const char* name, const std::string& v, std::vector<T>& out) {
    out.clear();
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        const unsigned long long x = std::strtoull(item.c_str(), &end, 10);
        if (item.empty() || *end != '\0' || item[0] == '-' || x == 0 || x > 16'000'000) {
            std::fprintf(stderr, "cats-bench: --%s: '%s' is not a count 1..16000000\n", name, item.c_str());
            return false;
        }
        out.push_back(static_cast<T>(x));
    }
    if (out.empty()) {
        std::fprintf(stderr, "cats-bench: --%s: empty list\n", name);
        return false;
    }
    return true;
}

bool parse_seconds(const char* name, const char* v, double& out) {
    char* end = nullptr;
    out = std::strtod(v, &end);
    if (end == v || *end != '\0' || !(out > 0) || out > 3600) {
        std::fprintf(stderr, "cats-bench: --%s: '%s' is not a duration in seconds (0..3600]\n", name, v);
        return false;
    }
    return true;
}

struct Options {
    EngineOptions engine;
    ControlOptions control;
    bool run_engine = true;
    bool run_control = true;
    bool help = false;  // -h: usage printed, exit 0
    std::string json;
};

// cats-control next to this program (installed) or in the build tree.
std::string find_control() {
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec)
        return {};
    for (const fs::path& p : {self.parent_path() / "cats-control",
                              self.parent_path() / ".." / ".." / "control" / "cats-control"})
        if (fs::exists(p, ec))
            return p.lexically_normal().string();
    return {};
}

bool parse_options(int argc, char** argv, Options& o) {
    static const option longopts[] = {
        {"flows", required_argument, nullptr, 'f'},    {"services", required_argument, nullptr, 's'},
        {"workers", required_argument, nullptr, 'w'},  {"encodings", required_argument, nullptr, 'e'},
        {"duration", required_argument, nullptr, 'd'}, {"warmup", required_argument, nullptr, 'u'},
        {"payload", required_argument, nullptr, 'p'},  {"no-pmd", no_argument, nullptr, 'P'},
        {"no-memory", no_argument, nullptr, 'M'},      {"tmpdir", required_argument, nullptr, 't'},
        {"json", required_argument, nullptr, 'j'},     {"smoke", no_argument, nullptr, 'S'},
        {"modes", required_argument, nullptr, 'm'},    {"help", no_argument, nullptr, 'h'},
        {"no-engine", no_argument, nullptr, 'E'},      {"no-control", no_argument, nullptr, 'C'},
        {"control-bin", required_argument, nullptr, 'b'}, {"updates-rate", required_argument, nullptr, 'r'},
        {nullptr, 0, nullptr, 0},
    };
    EngineOptions& e = o.engine;
    optind = 0;  // glibc: a full restart (EAL, and the check before it, parsed before)
    opterr = 0;  // our messages, one line each (usage_error)
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, nullptr)) != -1) {
        switch (c) {
        case 'f':
            if (!parse_list("flows", optarg, e.flows))
                return false;
            break;
        case 's':
            if (!parse_list("services", optarg, e.services))
                return false;
            for (const auto s : e.services)
                if (s > 60000) {
                    std::fprintf(stderr, "cats-bench: --services: at most 60000\n");
                    return false;
                }
            break;
        case 'w':
            if (!parse_list("workers", optarg, e.workers))
                return false;
            break;
        case 'e': {
            e.encodings.clear();
            std::stringstream ss(optarg);
            std::string item;
            while (std::getline(ss, item, ',')) {
                if (item == "srh_tlv")
                    e.encodings.push_back(Encoding::SrhTlv);
                else if (item == "dest_opt")
                    e.encodings.push_back(Encoding::DestOpt);
                else if (item == "service_sid")
                    e.encodings.push_back(Encoding::ServiceSid);
                else if (item == "srh_tlv_hmac")
                    e.encodings.push_back(Encoding::SrhTlvHmac);
                else {
                    std::fprintf(stderr, "cats-bench: --encodings: '%s' is not srh_tlv, dest_opt, service_sid or srh_tlv_hmac\n",
                                 item.c_str());
                    return false;
                }
            }
            if (e.encodings.empty()) {
                std::fprintf(stderr, "cats-bench: --encodings: empty list\n");
                return false;
            }
            break;
        }
        case 'm': {
            e.run_io = e.run_l3fwd = e.run_cats = e.run_newflow = e.run_dx6 = false;
            std::stringstream ss(optarg);
            std::string item;
            while (std::getline(ss, item, ',')) {
                if (item == "io")
                    e.run_io = true;
                else if (item == "l3fwd")
                    e.run_l3fwd = true;
                else if (item == "cats")
                    e.run_cats = true;
                else if (item == "newflow")
                    e.run_newflow = true;
                else if (item == "end.dx6")
                    e.run_dx6 = true;
                else {
                    std::fprintf(stderr, "cats-bench: --modes: '%s' is not io, l3fwd, cats, newflow or end.dx6\n",
                                 item.c_str());
                    return false;
                }
            }
            break;
        }
        case 'd':
            if (!parse_seconds("duration", optarg, e.duration_s))
                return false;
            break;
        case 'u':
            if (!parse_seconds("warmup", optarg, e.warmup_s))
                return false;
            break;
        case 'p': {
            std::vector<unsigned> v;
            if (!parse_list("payload", optarg, v) || v.size() != 1 || v[0] < 16 || v[0] > 200) {
                std::fprintf(stderr, "cats-bench: --payload: one size, 16..200\n");
                return false;
            }
            e.payload = static_cast<std::uint16_t>(v[0]);
            break;
        }
        case 'P': e.pmd = false; break;
        case 'E': o.run_engine = false; break;
        case 'C': o.run_control = false; break;
        case 'b': o.control.control_bin = optarg; break;
        case 'r': {
            std::vector<std::uint32_t> v;
            if (!parse_list("updates-rate", optarg, v) || v.size() != 1 || v[0] > 1000000) {
                std::fprintf(stderr, "cats-bench: --updates-rate: one rate, 1..1000000\n");
                return false;
            }
            o.control.update_rate = v[0];
            break;
        }
        case 'M': e.memory = false; break;
        case 't': e.tmpdir = optarg; o.control.tmpdir = optarg; break;
        case 'j': o.json = optarg; break;
        case 'S':
            e.flows = {1000};
            e.services = {10};
            e.workers = {1};
            e.duration_s = 0.05;
            e.warmup_s = 0.02;
            o.control.flows = 1000;
            o.control.ingest_messages = 2000;
            o.control.latency_samples = 50;
            o.control.update_s = 0.3;
            break;
        case 'h': usage(argv[0], stdout); o.help = true; return false;
        case ':': usage_error(std::string(argv[optind - 1]) + " needs a value"); return false;
        default:
            // An unknown short option may sit in a group ("-xy"): getopt
            // names it in optopt; a long one only in argv.
            usage_error("unknown argument '" +
                        (optopt != 0 ? std::string("-") + static_cast<char>(optopt) : std::string(argv[optind - 1])) +
                        "'");
            return false;
        }
    }
    if (optind < argc) {
        usage_error("unknown argument '" + std::string(argv[optind]) + "'");
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--version") {
            std::printf("cats-bench %s (git %s)\n", CATS_VERSION, CATS_GIT);
            return 0;
        }
    {
        // The options are checked before EAL starts: --help needs no
        // hugepages either.
        std::vector<char*> args = cats::app_args(argc, argv, {"--help", "-h"});
        Options scratch;
        if (!parse_options(static_cast<int>(args.size()) - 1, args.data(), scratch))
            return scratch.help ? 0 : 2;
    }
    const int eal_args = rte_eal_init(argc, argv);
    if (eal_args < 0) {
        std::fprintf(stderr, "cats-bench: EAL init failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    argc -= eal_args;
    argv += eal_args;
    argv[0] = const_cast<char*>("cats-bench");
    Options o;
    if (!parse_options(argc, argv, o)) {
        cats::eal_exit("cats-bench");
        return o.help ? 0 : 2;
    }
    if (o.control.control_bin.empty())
        o.control.control_bin = find_control();
    int rc = 0;
    try {
        nlohmann::json j = nlohmann::json::object();
        std::string cpu;
        std::ifstream ci("/proc/cpuinfo");
        for (std::string line; cpu.empty() && std::getline(ci, line);)
            if (line.rfind("model name", 0) == 0)
                cpu = line.substr(line.find(':') + 2);
        const bool huge = rte_eal_has_hugepages() != 0;
        const std::string thp = cats::dp::ThpHeap::kernel_setting();
        j["machine"] = {{"cpu", cpu},
                        {"cpus_online", std::thread::hardware_concurrency()},
                        {"lcores", rte_lcore_count()},
                        {"tsc_hz", rte_get_tsc_hz()},
                        {"hugepages", huge},
                        {"thp", thp}};
        std::fprintf(stderr, "cats-bench: %s, %u CPUs, %u lcores, TSC %.3f GHz\n", cpu.c_str(),
                     std::thread::hardware_concurrency(), rte_lcore_count(),
                     static_cast<double>(rte_get_tsc_hz()) / 1e9);
        // Without hugepages the tables and the input mbufs go on heaps
        // advised for THP (see BENCHMARKS.md); say whether the kernel will
        // give it, since the 64K and 1M figures depend on it.
        if (huge)
            std::fprintf(stderr, "cats-bench: memory: EAL's hugepages\n");
        else if (thp == "always" || thp == "madvise")
            std::fprintf(stderr, "cats-bench: memory: no hugepages; flow tables and input mbufs on transparent huge "
                                 "pages (THP %s)\n", thp.c_str());
        else
            std::fprintf(stderr, "cats-bench: memory: no hugepages and no transparent huge pages (THP %s): 4 KB "
                                 "pages, and TLB misses in the 64K and 1M flow figures\n",
                         thp.empty() ? "not in this kernel" : thp.c_str());
        if (o.run_engine) {
            const EngineResults r = run_engine_bench(o.engine);
            std::cout << render_engine(r) << std::flush;
            j["engine"] = to_json(r);
            // Figures never fail the run; wrong behaviour does.
            for (const RunResult& x : r.runs)
                if (x.dropped != 0) {
                    std::fprintf(stderr, "cats-bench: %s %s %s dropped %lu packets\n", x.io.c_str(),
                                 x.mode.c_str(), encoding_name(x.encoding), static_cast<unsigned long>(x.dropped));
                    rc = 1;
                }
        }
        if (o.run_control) {
            const ControlResults c = run_control_bench(o.control);
            std::cout << render_control(c) << std::flush;
            j["control"] = to_json(c);
            if (c.lost != 0 || c.dropped != 0 || c.latency_timeouts != 0) {
                std::fprintf(stderr, "cats-bench: packets lost or updates missing while updating\n");
                rc = 1;
            }
        }
        if (o.json == "-") {
            std::cout << j.dump(2) << "\n";
        } else if (!o.json.empty()) {
            std::ofstream f(o.json);
            f << j.dump(2) << "\n";
            if (!f)
                throw std::runtime_error("cannot write " + o.json);
        }
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "cats-bench: %s\n", ex.what());
        rc = 1;
    }
    cats::eal_exit("cats-bench");
    return rc;
}
