"""Who uses a key from where. Key sharing: one key from at least `sharing_min_ips` addresses
in at least `sharing_min_networks` networks (/16 for IPv4, /48 for IPv6: the pods of one
autoscaled client share a network, the holders of a leaked key do not), and far more than its
peers when there are enough of them (medium). Key rotation: one address using at least
`rotation_min_keys` accepted keys one after the other (`rotation_sequential` of the hand-overs
start after the previous key's last request), the way a client dodges per-key quotas with a
pool of keys; a NAT gateway's keys overlap in time instead (medium). Keys the API refused are
not counted: guessing keys is a spray."""

from __future__ import annotations

from collections import Counter

import numpy as np

from custos.accesslog.features import Keys, Pairs, network
from custos.accesslog.report import Detection, mask_key
from custos.accesslog.settings import Settings
from custos.accesslog.stats import robust_z
from custos.findings import Severity

LISTED = 10


def sharing(k: Keys, p: Pairs, settings: Settings) -> list[Detection]:
    many = (k.addresses >= settings.sharing_min_ips) & (k.networks >= settings.sharing_min_networks)
    if len(k) >= settings.peer_min_keys:
        z = robust_z(np.log10(np.maximum(k.addresses, 1)), floor=0.1)
        many &= z >= settings.peer_z
    else:
        z = np.full(len(k), np.nan)
    out: list[Detection] = []
    for i in np.flatnonzero(many).tolist():
        mine = np.flatnonzero(p.key == i)
        nets = Counter({network(p.ip[j]): 0 for j in mine.tolist()})
        for j in mine.tolist():
            nets[network(p.ip[j])] += int(p.n[j])
        out.append(Detection(
            "key-sharing", Severity.medium,
            f"used from {int(k.addresses[i]):,} addresses in {int(k.networks[i]):,} networks "
            f"(peers' median {np.median(k.addresses):g} addresses)",
            float(k.networks[i]), float(k.first[i]), float(k.last[i]), mask_key(k.api_key[i]),
            None,
            {"addresses": int(k.addresses[i]), "networks": int(k.networks[i]),
             "top_networks": dict(nets.most_common(LISTED)), "agents": int(k.agents[i]),
             "peers_median_addresses": float(np.median(k.addresses)),
             "robust_z": None if np.isnan(z[i]) else round(float(z[i]), 2)},
        ))  # fmt: skip
    return out


def rotation(k: Keys, p: Pairs, settings: Settings) -> list[Detection]:
    by_ip: dict[str, list[int]] = {}
    accepted = (p.key >= 0) & (p.n > p.denied)  # keys the API took: guessed ones are sprays
    for j in np.flatnonzero(accepted).tolist():
        by_ip.setdefault(p.ip[j], []).append(j)
    out: list[Detection] = []
    for ip, rows in sorted(by_ip.items()):
        if len(rows) < settings.rotation_min_keys:
            continue
        rows.sort(key=lambda j: (p.first[j], p.last[j]))
        first = p.first[rows]
        last = p.last[rows]
        handovers = first[1:] >= np.maximum.accumulate(last)[:-1]
        sequential = float(handovers.mean())
        if sequential < settings.rotation_sequential:
            continue
        listed = [{"api_key": mask_key(k.api_key[int(p.key[j])]), "requests": int(p.n[j]),
                   "denied": int(p.denied[j])} for j in rows[:LISTED]]  # fmt: skip
        out.append(Detection(
            "key-rotation", Severity.medium,
            f"{len(rows)} keys used one after the other from this address "
            f"({sequential:.0%} of hand-overs sequential, {int(p.n[rows].sum()):,} requests)",
            float(len(rows)), float(first.min()), float(last.max()), None, ip,
            {"keys": len(rows), "sequential_share": round(sequential, 4),
             "requests": int(p.n[rows].sum()), "denied": int(p.denied[rows].sum()),
             "keys_listed": listed},
        ))  # fmt: skip
    return out
