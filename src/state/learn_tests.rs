//! Learning from history and replays of several windows, on the memory store.
use super::tests::{assume_role, get_secret, role, run, threshold_rule, DAY, ROLE_RULE, T0};
use super::*;
use crate::ecs::CloudTrailView;
use crate::rules::RuleSet;
use serde_json::Value as Json;

#[test]
fn learning_fills_the_history_without_raising() {
    let set = RuleSet::embedded();
    let st = Stateful::new(MemoryStore::new());
    let rule = set.get(ROLE_RULE).unwrap();
    let r = role(4);
    let past = assume_role("h1", T0, "eks.amazonaws.com", &[r.as_str()]);
    let view = CloudTrailView::new(&past);
    assert_eq!(
        st.learn(rule, &view, T0, "h1").unwrap(),
        1,
        "would have been new"
    );
    assert_eq!(st.learn(rule, &view, T0, "h2").unwrap(), 0);
    st.flush().unwrap();
    // Live, two days later: already known.
    let live = assume_role("l1", T0 + 2 * DAY, "eks.amazonaws.com", &[r.as_str()]);
    assert!(run(&st, &set, ROLE_RULE, &live).is_empty());
    // A pair never learnt still alerts.
    let other = assume_role("l2", T0 + 2 * DAY, "eks.amazonaws.com", &[role(5).as_str()]);
    assert_eq!(run(&st, &set, ROLE_RULE, &other).len(), 1);
}

#[test]
fn replaying_an_object_replays_every_window_it_closed_or_opened_not_only_the_last() {
    let min = 60_000;
    let threshold = threshold_rule("[rule.threshold]\nfield = [\"user.name\"]\nvalue = 3\n");
    let suppressed = threshold_rule(
        "[rule.threshold]\nfield = []\nvalue = 1\n[rule.alert_suppression]\ngroup_by = [\"user.name\"]\nduration = {value = 10, unit = \"m\"}\n",
    );
    for (set, times, raised) in [
        // Three events a window: windows closed by events 2, 5 and 8.
        (&threshold, (0..9).collect::<Vec<i64>>(), vec![2, 5, 8]),
        // Windows opened at 0, 11 and 22; the others suppressed.
        (&suppressed, vec![0, 1, 11, 12, 22, 23], vec![0, 2, 4]),
    ] {
        let store = MemoryStore::new();
        let records: Vec<Json> = times
            .iter()
            .enumerate()
            .map(|(i, t)| get_secret(&format!("e{i}"), T0 + t * min, "alice", "s"))
            .collect();
        let pass = |st: &Stateful<&MemoryStore>| -> Vec<(usize, StatefulHit)> {
            records
                .iter()
                .enumerate()
                .flat_map(|(i, r)| run(st, set, "th", r).into_iter().map(move |h| (i, h)))
                .collect()
        };
        let first = pass(&Stateful::new(&store));
        assert_eq!(first.iter().map(|(i, _)| *i).collect::<Vec<_>>(), raised);
        // The object retried by another container (its publish failed): the same alerts, each
        // window's included, with the same seeds.
        assert_eq!(pass(&Stateful::new(&store)), first);
    }
}

#[test]
fn what_learning_made_new_is_not_replayed_as_an_alert() {
    // new_terms: the event that made the pair new while learning, seen again live: nothing.
    let set = RuleSet::embedded();
    let st = Stateful::new(MemoryStore::new());
    let rule = set.get(ROLE_RULE).unwrap();
    let past = assume_role("h1", T0, "ecs-tasks.amazonaws.com", &[role(7).as_str()]);
    assert_eq!(
        st.learn(rule, &CloudTrailView::new(&past), T0, "h1")
            .unwrap(),
        1
    );
    assert!(run(&st, &set, ROLE_RULE, &past).is_empty());
    // threshold: a window closed while learning is not raised when its events come again; the
    // next window still alerts.
    let set = threshold_rule("[rule.threshold]\nfield = [\"user.name\"]\nvalue = 3\n");
    let rule = set.get("th").unwrap();
    let st = Stateful::new(MemoryStore::new());
    let records: Vec<Json> = (0..6)
        .map(|i| get_secret(&format!("e{i}"), T0 + i * 60_000, "alice", "s"))
        .collect();
    let learned: usize = records[..3]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = T0 + i as i64 * 60_000;
            st.learn(rule, &CloudTrailView::new(r), t, &format!("e{i}"))
                .unwrap()
        })
        .sum();
    assert_eq!(learned, 1, "the third event would have closed a window");
    let raised: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| !run(&st, &set, "th", r).is_empty())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(raised, vec![5]);
}
