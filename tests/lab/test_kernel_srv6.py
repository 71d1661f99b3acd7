#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Unit tests of how the lab and the e2e test choose the kernel's SRv6
termination (tools/lab/kernel_srv6.py): the kernel config parser and the
choice from probed capabilities. Pure: no root, no namespaces.

usage: test_kernel_srv6.py SOURCE_DIR
"""
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(sys.argv.pop(1) if len(sys.argv) > 1 else
                                os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "tools", "lab"))
import kernel_srv6 as k  # noqa: E402

ALL = {"seg6local": True, "seg6": True, "nftables": True, "policy_routing": True}
# The lines of the kernel this project is tested on that matter here.
KCONFIG_6_18 = """
CONFIG_IPV6=y
# CONFIG_IPV6_SEG6_LWTUNNEL is not set
# CONFIG_IPV6_SEG6_HMAC is not set
CONFIG_IPV6_MULTIPLE_TABLES=y
CONFIG_NF_TABLES=y
CONFIG_DEFAULT_HOSTNAME="(none)"
"""


class ParseKconfig(unittest.TestCase):
    def test_set_unset_and_quoted(self):
        c = k.parse_kconfig(KCONFIG_6_18)
        self.assertEqual(c["CONFIG_IPV6"], "y")
        self.assertEqual(c["CONFIG_IPV6_SEG6_LWTUNNEL"], "n")
        self.assertEqual(c["CONFIG_IPV6_SEG6_HMAC"], "n")
        self.assertEqual(c["CONFIG_DEFAULT_HOSTNAME"], "(none)")
        self.assertNotIn("CONFIG_IPV6_TUNNEL", c)

    def test_comments_and_blank_lines_ignored(self):
        self.assertEqual(k.parse_kconfig("#\n# Networking\n\n# just a comment\n"), {})


class Choose(unittest.TestCase):
    def test_seg6local_preferred_when_present(self):
        self.assertEqual(k.choose(ALL), k.SEG6LOCAL)

    def test_core_without_seg6local(self):
        self.assertEqual(k.choose(dict(ALL, seg6local=False)), k.CORE)

    def test_forced_core_on_a_seg6local_kernel(self):
        self.assertEqual(k.choose(ALL, forced="core"), k.CORE)

    def test_forced_seg6local_missing_names_the_option(self):
        with self.assertRaises(k.Unsupported) as e:
            k.choose(dict(ALL, seg6local=False), forced="seg6local", kconfig=k.parse_kconfig(KCONFIG_6_18))
        msg = str(e.exception)
        self.assertIn("CONFIG_IPV6_SEG6_LWTUNNEL", msg)
        self.assertIn("not set in this kernel's config", msg)
        self.assertNotIn("\n", msg)

    def test_nothing_works_names_every_missing_option(self):
        caps = {"seg6local": False, "seg6": True, "nftables": False, "policy_routing": False}
        with self.assertRaises(k.Unsupported) as e:
            k.choose(caps)
        msg = str(e.exception)
        for opt in ("CONFIG_IPV6_SEG6_LWTUNNEL", "CONFIG_NF_TABLES", "CONFIG_IPV6_MULTIPLE_TABLES"):
            self.assertIn(opt, msg)
        self.assertNotIn("CONFIG_IPV6 ", msg)   # the core SRH path itself is there

    def test_core_needs_policy_routing(self):
        self.assertRaises(k.Unsupported, k.choose, dict(ALL, seg6local=False, policy_routing=False))

    def test_unknown_forced_mode(self):
        self.assertRaises(ValueError, k.choose, ALL, forced="vpp")

    def test_missing_capability_counts_as_absent(self):
        self.assertEqual(k.choose({"seg6": True, "nftables": True, "policy_routing": True}), k.CORE)


class NodeMode(unittest.TestCase):
    def test_rejects_unknown_mode(self):
        self.assertRaises(ValueError, k.Node, "ns", "lwt", lambda *a, **kw: "")

    def test_core_commands(self):
        """The commands a core-mode End.DX6 issues, without running them."""
        ran = []
        n = k.Node("cn1", k.CORE, lambda *a, ns=None: ran.append((ns,) + a) or "")
        n.dx6("2001:db8:a1::100", "2001:db8:e1::2", "up1")
        cmds = [" ".join(c[1:]) for c in ran]
        self.assertTrue(all(c[0] == "cn1" for c in ran))
        self.assertIn("ip -6 addr add 2001:db8:a1::100/128 dev lo", cmds)
        mark = str(k.MARK_BASE + 1)
        self.assertIn("ip -6 rule add fwmark %s table %s" % (mark, mark), cmds)
        self.assertIn("ip -6 route add default via 2001:db8:e1::2 dev up1 table %s" % mark, cmds)
        self.assertTrue(any(c.startswith("nft add rule inet cats_srv6 arrive ip6 daddr 2001:db8:a1::100 meta mark set")
                            for c in cmds), cmds)


if __name__ == "__main__":
    unittest.main(verbosity=1)
