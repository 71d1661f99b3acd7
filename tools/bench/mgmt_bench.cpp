// SPDX-License-Identifier: BSD-3-Clause
// cats-mgmt-bench: what one UPDATE batch costs the dataplane's management
// thread to decode and apply (dataplane/mgmt.hpp apply_batch), per op, at
// growing batch sizes. The time per op must stay flat (linear apply); the
// figures are in BENCHMARKS.md, "Management updates".
//
// Two workloads per size N:
//   mixed    a table of N/1000 services of 1000 instances each, and a batch
//            that, per service, updates 500 instances, removes 250 and adds
//            250 (UpsertInstance / RemoveInstance);
//   one-svc  the batch issue 20 found quadratic: N UpsertInstance ops of
//            new ids into one service. It is refused at the service's
//            bound (kMaxInstancesPerService), so its cost is the time to
//            say so.
// Usage: cats-mgmt-bench [N ...]   (default 10000 100000 1000000)
// No EAL: apply_batch is pure over the bytes and the current configs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "mgmt.hpp"
#include "mgmt_wire.hpp"

namespace {

using namespace cats;
using dp::ServiceConfig;

constexpr std::uint32_t kPerService = 1000;

dp::InstanceConfig instance_config(std::uint32_t cs, std::uint32_t id) {
    dp::InstanceConfig ic;
    ic.id = id;
    dp::Ipv6Addr sid{0xfc, 0x00};
    sid[12] = static_cast<std::uint8_t>(cs >> 8);
    sid[13] = static_cast<std::uint8_t>(cs);
    sid[14] = static_cast<std::uint8_t>(id >> 8);
    sid[15] = static_cast<std::uint8_t>(id);
    ic.sids.push_back(sid);
    return ic;
}

mgmt::Op instance_op(mgmt::OpType type, std::uint32_t cs, std::uint32_t id, std::uint8_t load) {
    mgmt::Op op;
    op.type = type;
    op.service.cs_id = cs;
    op.instance.id = id;
    if (type == mgmt::OpType::UpsertInstance) {
        const dp::InstanceConfig ic = instance_config(cs, id);
        op.instance.sids.push_back(ic.sids[0]);
        op.instance.metrics.load_pct = load;
    }
    return op;
}

struct Run {
    double seconds = 0;
    std::size_t ops = 0;
    std::string status;
};

Run time_apply(const std::vector<std::uint8_t>& payload, const std::map<std::uint32_t, ServiceConfig>& base) {
    const auto t0 = std::chrono::steady_clock::now();
    const dp::BatchResult r = dp::apply_batch(payload, base, mgmt::kMaxBatchOps);
    const auto t1 = std::chrono::steady_clock::now();
    Run run;
    run.seconds = std::chrono::duration<double>(t1 - t0).count();
    run.ops = r.ops;
    run.status = r.error.empty() ? "ok, " + std::to_string(r.changes.size()) + " services changed" : r.error;
    return run;
}

Run mixed(std::uint32_t n) {
    const std::uint32_t services = (n + kPerService - 1) / kPerService;
    std::map<std::uint32_t, ServiceConfig> base;
    for (std::uint32_t s = 0; s < services; ++s) {
        ServiceConfig& sc = base[s + 1];
        sc.cs_id = s + 1;
        sc.name = "svc" + std::to_string(s + 1);
        for (std::uint32_t i = 0; i < kPerService; ++i)
            sc.instances.push_back(instance_config(s + 1, i + 1));
    }
    mgmt::Batch b;
    b.ops.reserve(n);
    for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t cs = k / kPerService + 1;
        const std::uint32_t j = k % kPerService;
        if (j < 500)
            b.ops.push_back(instance_op(mgmt::OpType::UpsertInstance, cs, j + 1, 50));
        else if (j < 750)
            b.ops.push_back(instance_op(mgmt::OpType::RemoveInstance, cs, j + 1, 0));
        else
            b.ops.push_back(instance_op(mgmt::OpType::UpsertInstance, cs, kPerService + j + 1, 0));
    }
    std::vector<std::uint8_t> payload;
    mgmt::encode_batch(b, payload);
    b = {};
    return time_apply(payload, base);
}

Run one_service(std::uint32_t n) {
    std::map<std::uint32_t, ServiceConfig> base;
    base[1].cs_id = 1;
    base[1].name = "one";
    mgmt::Batch b;
    b.ops.reserve(n);
    for (std::uint32_t k = 0; k < n; ++k)
        b.ops.push_back(instance_op(mgmt::OpType::UpsertInstance, 1, k + 1, 0));
    std::vector<std::uint8_t> payload;
    mgmt::encode_batch(b, payload);
    b = {};
    return time_apply(payload, base);
}

void print(const char* workload, std::uint32_t n, const Run& r) {
    std::printf("%-8s %9u ops  %9.3f ms  %8.1f ns/op  %s\n", workload, n, r.seconds * 1e3,
                r.seconds * 1e9 / static_cast<double>(n), r.status.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::uint32_t> sizes;
    for (int i = 1; i < argc; ++i) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(argv[i], &end, 10);
        if (*end != '\0' || v == 0 || v > mgmt::kMaxBatchOps) {
            std::fprintf(stderr, "usage: %s [N ...]  (1..%u ops per batch)\n", argv[0], mgmt::kMaxBatchOps);
            return 2;
        }
        sizes.push_back(static_cast<std::uint32_t>(v));
    }
    if (sizes.empty())
        sizes = {10000, 100000, 1000000};
    std::printf("apply_batch (decode + apply, no publish), best of 3\n");
    for (const std::uint32_t n : sizes) {
        Run best;
        for (int rep = 0; rep < 3; ++rep) {
            const Run r = mixed(n);
            if (rep == 0 || r.seconds < best.seconds)
                best = r;
        }
        print("mixed", n, best);
    }
    for (const std::uint32_t n : sizes) {
        Run best;
        for (int rep = 0; rep < 3; ++rep) {
            const Run r = one_service(n);
            if (rep == 0 || r.seconds < best.seconds)
                best = r;
        }
        print("one-svc", n, best);
    }
    return 0;
}
