// SPDX-License-Identifier: BSD-3-Clause
// cats-bench: EAL options, then `--`, then benchmark options. Prints a table
// for people on stdout and, with --json, every figure as JSON.
#include <getopt.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine_bench.hpp"

namespace {

using namespace cats::bench;

void usage(const char* prog) {
    std::fprintf(stderr,
                 "usage: %s [EAL options] -- [options]\n"
                 "  --flows LIST        concurrent flows per workload (1000,64000,1000000)\n"
                 "  --services LIST     services of 8 instances each (10,1000)\n"
                 "  --workers LIST      worker lcores (1,2); EAL needs as many lcores (-l)\n"
                 "  --encodings LIST    srh_tlv,dest_opt,service_sid (all)\n"
                 "  --duration SEC      measured window of each run (0.5)\n"
                 "  --warmup SEC        minimum warm-up before it (0.1)\n"
                 "  --payload BYTES     UDP payload of every packet (32)\n"
                 "  --no-pmd            skip the net_pcap runs\n"
                 "  --no-memory         skip the in-memory runs\n"
                 "  --tmpdir DIR        where input pcaps are written (/tmp)\n"
                 "  --json FILE         write every figure as JSON to FILE ('-': stdout)\n"
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
    std::string json;
};

bool parse_options(int argc, char** argv, Options& o) {
    static const option longopts[] = {
        {"flows", required_argument, nullptr, 'f'},    {"services", required_argument, nullptr, 's'},
        {"workers", required_argument, nullptr, 'w'},  {"encodings", required_argument, nullptr, 'e'},
        {"duration", required_argument, nullptr, 'd'}, {"warmup", required_argument, nullptr, 'u'},
        {"payload", required_argument, nullptr, 'p'},  {"no-pmd", no_argument, nullptr, 'P'},
        {"no-memory", no_argument, nullptr, 'M'},      {"tmpdir", required_argument, nullptr, 't'},
        {"json", required_argument, nullptr, 'j'},     {"smoke", no_argument, nullptr, 'S'},
        {"help", no_argument, nullptr, 'h'},           {nullptr, 0, nullptr, 0},
    };
    EngineOptions& e = o.engine;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, nullptr)) != -1) {
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
                else {
                    std::fprintf(stderr, "cats-bench: --encodings: '%s' is not srh_tlv, dest_opt or service_sid\n",
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
        case 'M': e.memory = false; break;
        case 't': e.tmpdir = optarg; break;
        case 'j': o.json = optarg; break;
        case 'S':
            e.flows = {1000};
            e.services = {10};
            e.workers = {1};
            e.duration_s = 0.05;
            e.warmup_s = 0.02;
            break;
        case 'h': usage(argv[0]); std::exit(0);
        default: usage(argv[0]); return false;
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "cats-bench: unexpected argument '%s'\n", argv[optind]);
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
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
        rte_eal_cleanup();
        return 2;
    }
    int rc = 0;
    try {
        const EngineResults r = run_engine_bench(o.engine);
        std::cout << render_engine(r) << std::flush;
        const nlohmann::json j = {{"engine", to_json(r)}};
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
    rte_eal_cleanup();
    return rc;
}
