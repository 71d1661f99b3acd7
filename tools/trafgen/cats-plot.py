#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""cats-plot: draw a cats-trafgen JSON report (cats-trafgen analyze|run
--plot FILE runs it; tools/trafgen/README.md).

  usage: cats-plot.py REPORT.json OUT.png|OUT.svg
         cats-plot.py --check        (exit 0 if matplotlib can be used)

Three panels, top to bottom:
  1. the measured share of each instance of its service's packets, next to
     the expected share, as bars; the expected bar carries the tolerance
     the report checked against (report["share_tolerance"]);
  2. the one-way latency CDF per instance (report["latency_cdf_us"]), or
     "no latency samples";
  3. packets received per second over time, in total and per instance
     (report["timeline"]).

Matplotlib comes from Debian's python3-matplotlib, drawn with the Agg
backend (no display needed). An SVG keeps its text as text
(svg.fonttype 'none'), so instance names can be searched in it.
Errors are one line on stderr, exit 1.
"""
import json
import os
import sys

sys.dont_write_bytecode = True


def fail(msg):
    print("cats-plot: " + msg, file=sys.stderr)
    sys.exit(1)


def load_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail("matplotlib is missing: install Debian's python3-matplotlib (apt-get install python3-matplotlib)")
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "cats"  # the same report gives the same file
    return plt


def instances(report):
    """[(service label, instance)] in report order."""
    out = []
    for s in report.get("services", []):
        for i in s.get("instances", []):
            out.append(("%s (%s)" % (s.get("name", ""), s.get("cs_id", "")), i))
    return out


def legend_outside(ax):
    """To the right of the panel, where it hides no bar or line."""
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


def panel_shares(ax, report):
    tol = report.get("share_tolerance", {})
    value = tol.get("value", report.get("checks", {}).get("share_tolerance"))
    title = "Share per instance: measured against expected"
    if value is not None:
        title += " (tolerance \u00b1%g, from %s)" % (value, tol.get("from", "the report"))
    ax.set_title(title, fontsize=10)
    insts = instances(report)
    if not insts:
        ax.text(0.5, 0.5, "no instances in the profile", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    xs = range(len(insts))
    width = 0.38
    measured = [i["share"] for _, i in insts]
    expected = [i["expected_share"] for _, i in insts]
    colors = ["tab:blue" if i.get("within_tolerance", True) else "tab:red" for _, i in insts]
    ax.bar([x - width / 2 for x in xs], measured, width, color=colors, label="measured")
    ax.bar([x + width / 2 for x in xs], expected, width, color="tab:gray", alpha=0.6,
           yerr=[value or 0] * len(insts) if value else None, capsize=3, label="expected (\u00b1 tolerance)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(["%s\n%s" % (i["name"], svc) for svc, i in insts], fontsize=8)
    ax.set_ylabel("share of the service's packets")
    ax.set_ylim(0, max([1.0] + [m + 0.05 for m in measured]))
    legend_outside(ax)
    for x, (_, i) in zip(xs, insts):
        if not i.get("within_tolerance", True):
            ax.annotate("OFF", (x - width / 2, i["share"]), ha="center", va="bottom", color="tab:red", fontsize=8)


def panel_latency(ax, report):
    ax.set_title("Latency CDF per instance (one-way, RX - TX)", fontsize=10)
    cdf = report.get("latency_cdf_us", {})
    percent = cdf.get("percent", [])
    series = [(i["name"], i["us"]) for i in cdf.get("instances", []) if i.get("samples", 0) > 0 and i.get("us")]
    if not series:
        ax.text(0.5, 0.5, "no latency samples", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    # Milliseconds once microseconds get long to read.
    scale, unit = (1000.0, "ms") if max(max(us) for _, us in series) >= 10000 else (1.0, "us")
    for name, us in series:
        ax.step([u / scale for u in us], [p / 100.0 for p in percent[:len(us)]], where="post", label=name)
    ax.set_xlabel("latency (%s)" % unit)
    ax.set_ylabel("fraction of packets")
    ax.set_ylim(0, 1.02)
    ax.grid(True, alpha=0.3)
    legend_outside(ax)
    if not report.get("latency_us", {}).get("plausible", True):
        ax.text(0.02, 0.95, "not meaningful: the TX times are not from the receiver's clock",
                ha="left", va="top", transform=ax.transAxes, color="tab:red", fontsize=8)


def panel_timeline(ax, report):
    ax.set_title("Packets per second over time (received)", fontsize=10)
    tl = report.get("timeline", {})
    total = tl.get("received", [])
    bin_s = tl.get("bin_s", 1.0) or 1.0
    if not total:
        ax.text(0.5, 0.5, "no packets received", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    xs = [k * bin_s for k in range(len(total))]
    ax.step(xs, [n / bin_s for n in total], where="post", label="total", color="black", linewidth=1.5)
    for inst in tl.get("instances", []):
        if any(inst.get("received", [])):
            ax.step(xs, [n / bin_s for n in inst["received"]], where="post", label=inst["name"], linewidth=1)
    ax.set_xlabel("seconds since the first packet (bins of %g s)" % bin_s)
    ax.set_ylabel("packets/s")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    legend_outside(ax)


def main(argv):
    if len(argv) == 2 and argv[1] == "--check":
        load_matplotlib()
        return 0
    if len(argv) != 3:
        fail("usage: cats-plot.py REPORT.json OUT.png|OUT.svg")
    src, out = argv[1], argv[2]
    ext = os.path.splitext(out)[1].lower()
    if ext not in (".png", ".svg"):
        fail("%s: the file name must end in .png or .svg" % out)
    try:
        with open(src) as fh:
            report = json.load(fh)
    except (OSError, ValueError) as e:
        fail("%s: %s" % (src, e))
    plt = load_matplotlib()
    run = report.get("run", {})
    fig, axes = plt.subplots(3, 1, figsize=(11, 12))
    fig.suptitle("cats-trafgen: seed %s, run id %08x, %s flows" % (
        run.get("seed", "?"), run.get("run_id", 0), run.get("flows", "?")), fontsize=11)
    panel_shares(axes[0], report)
    panel_latency(axes[1], report)
    panel_timeline(axes[2], report)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    try:
        fig.savefig(out, format=ext[1:], dpi=100)
    except OSError as e:
        fail("%s: %s" % (out, e.strerror or e))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
