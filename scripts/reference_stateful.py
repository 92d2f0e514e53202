#!/usr/bin/env python3
"""An independent reference model of Elastic's stateful rules (elastic-semantics.md section 7).

    scripts/reference_stateful.py --rules RULES_DIR OBJECTS_DIR

Reads the rule files of RULES_DIR (new_terms, threshold, query rules with alert_suppression) and
the CloudTrail objects of OBJECTS_DIR (*.json.gz, in key order = delivery order; records in
order), and prints the alerts Elastic's semantics raise, one JSON object per line:

    {"rule_id": ..., "event_id": ..., "terms": [...], "count": N}

`terms` is the new term (new_terms), the group's values (threshold) or the suppression group's
values (suppressed query rules); `count` is the threshold's count (threshold rules only).

It shares no code with trailwatch: its own CloudTrail -> ECS field table (the few fields the
hidden rules use), its own query evaluator for the conjunctive `field: "value"` queries those rules
are written in (anything else is refused), and the section 7 semantics written out from the text:
- new_terms: a term (one per combination of the fields' values) is new when no matching event
  with it was seen in the history window before this event; every matching event refreshes it.
- threshold: per group, the matching events since the group's last alert within the look-back
  before this event; at N (and, with cardinality, that many distinct values) an alert, then the
  count restarts.
- alert_suppression: after an alert of a group, the rule's alerts of that group within the
  duration are suppressed.
"""
import argparse
import gzip
import itertools
import json
import os
import re
import sys
import tomllib
from datetime import datetime

UNITS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def span(text):
    m = re.fullmatch(r"(?:now-)?(\d+)([smhd])", text.strip())
    if not m:
        sys.exit(f"unsupported span {text!r}")
    return int(m.group(1)) * UNITS[m.group(2)]


def ecs_values(record, field):
    """The ECS field's values for a CloudTrail record (the fields the hidden rules use)."""
    ident = record.get("userIdentity") or {}
    table = {
        "data_stream.dataset": ["aws.cloudtrail"],
        "event.provider": [record.get("eventSource")],
        "event.action": [record.get("eventName")],
        "aws.cloudtrail.user_identity.arn": [ident.get("arn")],
        "source.ip": [record.get("sourceIPAddress")]
        if re.fullmatch(r"[0-9.]+", record.get("sourceIPAddress") or "") else [],
        "cloud.region": [record.get("awsRegion")],
        "aws.cloudtrail.resources.arn": [r.get("ARN") for r in record.get("resources") or []],
    }
    if field not in table:
        sys.exit(f"reference model: no mapping for {field}")
    out = []
    for v in table[field]:
        if v is not None and v not in out:
            out.append(v)
    return out


def compile_query(text):
    """`a: "x" and b: "y" ...` -> [(field, value)]; refuses anything else."""
    clauses = [c.strip() for c in re.split(r"\band\b", " ".join(text.split()))]
    out = []
    for c in clauses:
        m = re.fullmatch(r'([a-z_.]+):\s*"([^"]*)"', c)
        if not m:
            sys.exit(f"reference model: unsupported query clause {c!r}")
        out.append((m.group(1), m.group(2)))
    return out


def matches(query, record):
    return all(value in ecs_values(record, field) for field, value in query)


def millis(text):
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").timestamp() * 1000)


class Rule:
    def __init__(self, path):
        with open(path, "rb") as f:
            r = tomllib.load(f)["rule"]
        self.rule_id = r["rule_id"]
        self.type = r["type"]
        self.query = compile_query(r["query"])
        self.state = {}
        if self.type == "new_terms":
            self.fields = r["new_terms"]["value"]
            self.history = span(r["new_terms"]["history_window_start"][0]["value"])
        elif self.type == "threshold":
            th = r["threshold"]
            self.fields = th["field"]
            self.value = th["value"]
            card = th.get("cardinality") or []
            self.card = (card[0]["field"], card[0]["value"]) if card else None
            self.window = span(r.get("from", "now-6m"))
        sup = r.get("alert_suppression")
        self.suppress = None
        if sup:
            d = sup["duration"]
            self.suppress = (sup["group_by"], span(f"{d['value']}{d['unit']}"))
            self.windows = {}

    def combos(self, record, fields):
        return [list(c) for c in itertools.product(*(ecs_values(record, f) for f in fields))]

    def hits(self, record, t):
        """The alerts (terms, count) this matching event raises, before suppression."""
        if self.type == "new_terms":
            out = []
            for term in self.combos(record, self.fields):
                key = json.dumps(term)
                last = self.state.get(key)
                if last is None or last < t - self.history:
                    out.append((term, None))
                self.state[key] = t if last is None else max(last, t)
            return out
        if self.type == "threshold":
            card = ecs_values(record, self.card[0]) if self.card else [None]
            out = []
            for group in self.combos(record, self.fields):
                if not card:
                    continue
                key = json.dumps(group)
                # Events counted since the group's last alert: (time, id, cardinality value).
                counted = [e for e in self.state.get(key, []) if e[0] >= t - self.window]
                counted += [(t, record["eventID"], v) for v in card]
                n = len({e[1] for e in counted})
                distinct = len({e[2] for e in counted})
                if n >= self.value and (not self.card or distinct >= self.card[1]):
                    out.append((group, n))
                    counted = []
                self.state[key] = counted
            return out
        return [([], None)]

    def suppressed(self, record, t):
        group_by, duration = self.suppress
        group = json.dumps([ecs_values(record, f) for f in group_by])
        start = self.windows.get(group)
        if start is not None and t < start + duration:
            return True
        self.windows[group] = t
        return False

    def group_values(self, record):
        vals = [ecs_values(record, f) for f in self.suppress[0]]
        return [v[0] if len(v) == 1 else (v or None) for v in vals]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", required=True)
    ap.add_argument("objects")
    args = ap.parse_args()
    rules = [Rule(os.path.join(args.rules, f)) for f in sorted(os.listdir(args.rules))
             if f.endswith(".toml")]
    paths = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.objects) for f in fs
                   if f.endswith(".json.gz"))
    for path in paths:
        with gzip.open(path) as f:
            records = json.load(f)["Records"]
        for record in records:
            t = millis(record["eventTime"])
            for rule in rules:
                if not matches(rule.query, record):
                    continue
                for terms, count in rule.hits(record, t):
                    if rule.suppress and rule.suppressed(record, t):
                        continue
                    if rule.type == "query":
                        terms = rule.group_values(record)
                    alert = {"rule_id": rule.rule_id, "event_id": record["eventID"],
                             "terms": terms}
                    if count is not None:
                        alert["count"] = count
                    print(json.dumps(alert, sort_keys=True))


if __name__ == "__main__":
    main()
