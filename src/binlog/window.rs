//! What can be restored, and how: the recoverable window a set of dumps and archived
//! segments gives, the gaps that end it, and for a target time the dump and segments
//! a restore replays. Pure: the caller lists the bucket and reads the records.

use jiff::Timestamp;

use super::Segment;

/// A dump as point-in-time recovery sees it: when it was complete, and where it
/// stands in its server's binary log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpPoint {
    /// The MySQLBackup record's name.
    pub name: String,
    /// When the dump was complete: every transaction it holds committed before.
    pub completed: Timestamp,
    pub timeline: String,
    /// The file its position is in (`mysql-bin.000012`): replay starts there.
    pub file: String,
    pub position: u64,
    /// Every transaction the dump holds, as its server writes a GTID set.
    pub gtid_set: Option<String>,
}

/// A missing file in a timeline's chain: replay cannot cross it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub timeline: String,
    /// The first missing file's number.
    pub missing: u64,
    /// The archived time the chain reaches before the gap.
    pub after: Timestamp,
}

/// From when to when a restore can reach any second, and the dumps and gaps that
/// decide it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub from: Timestamp,
    pub until: Timestamp,
    pub timeline: String,
    /// A gap after which nothing is recoverable (newest first), if any.
    pub gaps: Vec<Gap>,
}

/// The segments of `timeline` in order, and the runs of consecutive files they form.
fn runs<'a>(segments: &'a [Segment], timeline: &str) -> Vec<Vec<&'a Segment>> {
    let mut ordered: Vec<&Segment> = segments.iter().filter(|s| s.timeline == timeline).collect();
    ordered.sort_by_key(|s| s.sequence);
    ordered.dedup_by_key(|s| s.sequence);
    let mut runs: Vec<Vec<&Segment>> = Vec::new();
    for segment in ordered {
        match runs.last_mut() {
            Some(run)
                if run
                    .last()
                    .is_some_and(|l| l.sequence + 1 == segment.sequence) =>
            {
                run.push(segment)
            }
            _ => runs.push(vec![segment]),
        }
    }
    runs
}

/// The recoverable window: from the oldest dump whose chain reaches as far as any
/// dump's, to where that chain ends. Only the newest timeline's dumps count (an
/// earlier incarnation's binary logs replay onto nothing the current one has).
pub fn window(dumps: &[DumpPoint], segments: &[Segment]) -> Option<Window> {
    let newest = dumps.iter().max_by_key(|d| d.completed)?;
    let timeline = newest.timeline.clone();
    let reach = |d: &DumpPoint| {
        run_from(segments, &d.timeline, &d.file)
            .ok()
            .and_then(|c| c.last().map(|s| covered_until(s)))
            .filter(|until| *until >= d.completed)
            .unwrap_or(d.completed)
    };
    let mut on_timeline: Vec<&DumpPoint> =
        dumps.iter().filter(|d| d.timeline == timeline).collect();
    on_timeline.sort_by_key(|d| d.completed);
    let until = on_timeline.iter().map(|d| reach(d)).max()?;
    let from = on_timeline.iter().find(|d| reach(d) == until)?.completed;
    let all_runs = runs(segments, &timeline);
    let gaps = all_runs
        .windows(2)
        .rev()
        .filter_map(|pair| {
            let before = pair[0].last()?;
            Some(Gap {
                timeline: timeline.clone(),
                missing: before.sequence + 1,
                after: covered_until(before),
            })
        })
        .filter(|gap| gap.after >= from)
        .collect();
    Some(Window {
        from,
        until,
        timeline,
        gaps,
    })
}

/// Why the segments from a dump's position cannot reach a time.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ChainError {
    #[error("the binary log {0} the dump's position is in is not in the bucket")]
    StartMissing(String),
    #[error("the binary logs in the bucket reach only {until}, before {target}{}", gap.map(|g| format!(": file number {g} is missing")).unwrap_or_default())]
    Short {
        until: Timestamp,
        target: Timestamp,
        gap: Option<u64>,
    },
}

/// The segments a replay from `from_file` of `timeline` to `target` needs, in order:
/// from that file to the first one whose events reach `target`, with no file missing
/// between.
pub fn chain_to(
    segments: &[Segment],
    timeline: &str,
    from_file: &str,
    target: Timestamp,
) -> Result<Vec<Segment>, ChainError> {
    let run = run_from(segments, timeline, from_file)?;
    match run.iter().position(|s| covered_until(s) >= target) {
        Some(end) => Ok(run[..=end].iter().map(|s| (*s).clone()).collect()),
        None => {
            let last = run.last().expect("a run is never empty");
            let archived_after = segments
                .iter()
                .any(|s| s.timeline == timeline && s.sequence > last.sequence);
            Err(ChainError::Short {
                until: covered_until(last),
                target,
                gap: archived_after.then_some(last.sequence + 1),
            })
        }
    }
}

/// The last second a chain ending with `segment` holds every commit of. Event times
/// are whole seconds, and a commit in the second of the `FLUSH` that closed the file,
/// but after it, is in the next file: only the seconds before the last are whole.
fn covered_until(segment: &Segment) -> Timestamp {
    segment.last - jiff::SignedDuration::from_secs(1)
}

/// The consecutive segments of `timeline` from `from_file` on, as far as they go
/// unbroken.
pub fn run_from<'a>(
    segments: &'a [Segment],
    timeline: &str,
    from_file: &str,
) -> Result<Vec<&'a Segment>, ChainError> {
    let start = super::sequence_of(from_file)
        .ok_or_else(|| ChainError::StartMissing(from_file.to_string()))?;
    runs(segments, timeline)
        .into_iter()
        .find_map(|run| {
            let at = run.iter().position(|s| s.sequence == start)?;
            Some(run[at..].to_vec())
        })
        .ok_or_else(|| ChainError::StartMissing(from_file.to_string()))
}

/// The dump a restore to `target` starts from: the newest of `timeline` complete by
/// then. Within the window its chain reaches `target` (the window starts at a dump
/// whose chain reaches its end, and a later dump's chain is a part of that one).
pub fn base_for<'a>(
    dumps: &'a [DumpPoint],
    timeline: &str,
    target: Timestamp,
) -> Option<&'a DumpPoint> {
    dumps
        .iter()
        .filter(|d| d.timeline == timeline && d.completed <= target)
        .max_by_key(|d| d.completed)
}

/// The archived logs of `timeline` no restore can use: those before the file the
/// oldest of its dumps stands in (a replay starts at a dump's position). Nothing goes
/// while the timeline has no dump with a position (a dump found in the bucket without
/// its record says nothing of where it stands), and other timelines are left alone.
pub fn prunable<'a>(
    dumps: &[DumpPoint],
    segments: &'a [Segment],
    timeline: &str,
) -> Vec<&'a Segment> {
    let Some(oldest_needed) = dumps
        .iter()
        .filter(|d| d.timeline == timeline)
        .filter_map(|d| super::sequence_of(&d.file))
        .min()
    else {
        return Vec::new();
    };
    segments
        .iter()
        .filter(|s| s.timeline == timeline && s.sequence < oldest_needed)
        .collect()
}

/// The dump a restore up to (and without) the transaction `gtid` starts from: the
/// newest of `timeline` that does not hold it yet.
pub fn base_before<'a>(
    dumps: &'a [DumpPoint],
    timeline: &str,
    gtid: &crate::dialect::Gtid,
) -> Option<&'a DumpPoint> {
    dumps
        .iter()
        .filter(|d| d.timeline == timeline)
        .filter(|d| d.gtid_set.as_deref().is_some_and(|set| !gtid.in_set(set)))
        .max_by_key(|d| d.completed)
}

/// `mysqlbinlog --stop-datetime` for a restore to `target`: the next second, so that
/// the target's own second is replayed.
pub fn stop_after(target: Timestamp) -> Timestamp {
    target + jiff::SignedDuration::from_secs(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn segment(timeline: &str, sequence: u64, first: i64, last: i64) -> Segment {
        Segment {
            key: format!("{timeline}/{sequence}"),
            timeline: timeline.into(),
            file: format!("mysql-bin.{sequence:06}"),
            sequence,
            first: at(first),
            last: at(last),
        }
    }

    fn dump(name: &str, timeline: &str, completed: i64, sequence: u64) -> DumpPoint {
        DumpPoint {
            name: name.into(),
            completed: at(completed),
            timeline: timeline.into(),
            file: format!("mysql-bin.{sequence:06}"),
            position: 400,
            gtid_set: Some(format!("0-1-{}", completed / 10)),
        }
    }

    /// Files 1–5 of timeline "a", a minute each.
    fn chain() -> Vec<Segment> {
        (1..=5)
            .map(|n| segment("a", n, (n as i64 - 1) * 60, n as i64 * 60))
            .collect()
    }

    #[test]
    fn windows() {
        struct Case {
            what: &'static str,
            dumps: Vec<DumpPoint>,
            segments: Vec<Segment>,
            want: Option<(i64, i64, Vec<u64>)>,
        }
        let without = |n: u64| chain().into_iter().filter(|s| s.sequence != n).collect();
        let cases = [
            Case {
                what: "no dump: no window",
                dumps: vec![],
                segments: chain(),
                want: None,
            },
            Case {
                what: "a dump and its whole chain",
                dumps: vec![dump("d1", "a", 30, 1)],
                segments: chain(),
                want: Some((30, 299, vec![])),
            },
            Case {
                what: "a dump with no segments yet reaches only itself",
                dumps: vec![dump("d1", "a", 30, 1)],
                segments: vec![],
                want: Some((30, 30, vec![])),
            },
            Case {
                what: "the oldest dump whose chain reaches the end starts the window",
                dumps: vec![dump("d1", "a", 30, 1), dump("d2", "a", 150, 3)],
                segments: chain(),
                want: Some((30, 299, vec![])),
            },
            Case {
                what: "a gap after the first dump: the window starts at the dump after it",
                dumps: vec![dump("d1", "a", 30, 1), dump("d2", "a", 150, 3)],
                segments: without(2),
                want: Some((150, 299, vec![])),
            },
            Case {
                what: "a gap after the newest dump ends the window there and is named",
                dumps: vec![dump("d1", "a", 30, 1)],
                segments: without(4),
                want: Some((30, 179, vec![4])),
            },
            Case {
                what: "the dump's own file missing: it reaches only itself",
                dumps: vec![dump("d1", "a", 30, 1)],
                segments: without(1),
                want: Some((30, 30, vec![])),
            },
            Case {
                what: "an earlier incarnation's segments do not count",
                dumps: vec![dump("old", "a", 30, 1), dump("new", "b", 400, 1)],
                segments: chain()
                    .into_iter()
                    .chain([segment("b", 1, 390, 460)])
                    .collect(),
                want: Some((400, 459, vec![])),
            },
            Case {
                what: "a segment uploaded twice counts once",
                dumps: vec![dump("d1", "a", 30, 1)],
                segments: chain()
                    .into_iter()
                    .chain([segment("a", 5, 240, 300)])
                    .collect(),
                want: Some((30, 299, vec![])),
            },
        ];
        for case in cases {
            let got = window(&case.dumps, &case.segments).map(|w| {
                (
                    w.from,
                    w.until,
                    w.gaps.iter().map(|g| g.missing).collect::<Vec<_>>(),
                )
            });
            let want = case
                .want
                .map(|(from, until, gaps)| (at(from), at(until), gaps));
            assert_eq!(got, want, "{}", case.what);
        }
    }

    /// The base dump's name and position, and the segments to replay; or the window a
    /// refused target lies outside (None: no window at all).
    type Replayed = Result<(String, u64, Vec<Segment>), Option<(Timestamp, Timestamp)>>;

    /// What a restore to `target` replays, composed as the CLI and the Job do: refused
    /// outside the window; else the base dump and its chain to `target`.
    fn replay_to(dumps: &[DumpPoint], segments: &[Segment], target: Timestamp) -> Replayed {
        let w = window(dumps, segments).ok_or(None)?;
        let outside = Some((w.from, w.until));
        if target < w.from || target > w.until {
            return Err(outside);
        }
        let base = base_for(dumps, &w.timeline, target).ok_or(outside)?;
        let chain = chain_to(segments, &base.timeline, &base.file, target).map_err(|_| outside)?;
        Ok((base.name.clone(), base.position, chain))
    }

    #[test]
    fn replays() {
        let dumps = vec![dump("d1", "a", 30, 1), dump("d2", "a", 150, 3)];
        struct Case {
            what: &'static str,
            target: i64,
            want: Result<(&'static str, Vec<u64>), ()>,
        }
        let cases = [
            Case {
                what: "a time just after the first dump replays its file only",
                target: 40,
                want: Ok(("d1", vec![1])),
            },
            Case {
                what: "the newest dump before the target is the base",
                target: 200,
                want: Ok(("d2", vec![3, 4])),
            },
            Case {
                what: "the window's last second",
                target: 299,
                want: Ok(("d2", vec![3, 4, 5])),
            },
            Case {
                what: "a target between dumps uses the older one",
                target: 149,
                want: Ok(("d1", vec![1, 2, 3])),
            },
            Case {
                what: "before the first dump: refused",
                target: 29,
                want: Err(()),
            },
            Case {
                what: "the second of the last flush: refused (its later commits are unarchived)",
                target: 300,
                want: Err(()),
            },
        ];
        for case in cases {
            let got = replay_to(&dumps, &chain(), at(case.target))
                .map(|r| {
                    (
                        r.0.clone(),
                        r.2.iter().map(|s| s.sequence).collect::<Vec<_>>(),
                    )
                })
                .map_err(|_| ());
            let want = case.want.map(|(d, s)| (d.to_string(), s));
            assert_eq!(got, want, "{}", case.what);
        }
        let (_, start_position, _) = replay_to(&dumps, &chain(), at(200)).unwrap();
        assert_eq!(stop_after(at(200)), at(201));
        assert_eq!(start_position, 400);
    }

    #[test]
    fn the_base_is_the_newest_dump_of_the_timeline_by_the_target() {
        let dumps = vec![
            dump("d1", "a", 30, 1),
            dump("d2", "a", 150, 3),
            dump("other", "b", 100, 1),
        ];
        let base = |t| base_for(&dumps, "a", at(t)).map(|d| d.name.as_str());
        assert_eq!(base(149), Some("d1"));
        assert_eq!(base(150), Some("d2"));
        assert_eq!(base(20), None);
        assert_eq!(
            base_for(&dumps, "b", at(120)).map(|d| d.name.as_str()),
            Some("other")
        );
    }

    #[test]
    fn only_logs_before_the_oldest_dump_are_pruned() {
        let all: Vec<Segment> = chain()
            .into_iter()
            .chain([segment("b", 1, 0, 10)])
            .collect();
        let pruned = |dumps: &[DumpPoint]| {
            prunable(dumps, &all, "a")
                .iter()
                .map(|s| s.sequence)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            pruned(&[dump("d2", "a", 150, 3), dump("d3", "a", 250, 5)]),
            vec![1, 2]
        );
        // The dump's own file stays: its replay starts there.
        assert_eq!(pruned(&[dump("d1", "a", 30, 1)]), Vec::<u64>::new());
        // No positioned dump of the timeline: nothing is known to be useless.
        assert_eq!(pruned(&[dump("other", "b", 100, 1)]), Vec::<u64>::new());
        assert_eq!(pruned(&[]), Vec::<u64>::new());
    }

    #[test]
    fn the_base_before_a_transaction_is_the_newest_dump_without_it() {
        // d1 holds 0-1-1..3, d2 0-1-1..15.
        let dumps = vec![dump("d1", "a", 30, 1), dump("d2", "a", 150, 3)];
        let base =
            |gtid: &str| base_before(&dumps, "a", &gtid.parse().unwrap()).map(|d| d.name.as_str());
        assert_eq!(base("0-1-20"), Some("d2"));
        assert_eq!(base("0-1-15"), Some("d1"), "d2 holds it already");
        assert_eq!(base("0-1-3"), None, "every dump holds it");
        let unknown = vec![DumpPoint {
            gtid_set: None,
            ..dump("d0", "a", 10, 1)
        }];
        assert_eq!(base_before(&unknown, "a", &"0-1-9".parse().unwrap()), None);
    }

    #[test]
    fn a_gap_refuses_a_time_past_it() {
        let dumps = vec![dump("d1", "a", 30, 1)];
        let segments: Vec<Segment> = chain().into_iter().filter(|s| s.sequence != 4).collect();
        assert_eq!(
            replay_to(&dumps, &segments, at(250)),
            Err(Some((at(30), at(179))))
        );
        assert!(replay_to(&dumps, &segments, at(170)).is_ok());
        assert_eq!(replay_to(&[], &segments, at(170)), Err(None));
    }

    #[test]
    fn chains_from_a_dumps_file() {
        let all = chain();
        let files = |r: Result<Vec<Segment>, ChainError>| {
            r.map(|c| c.iter().map(|s| s.sequence).collect::<Vec<_>>())
        };
        assert_eq!(
            files(chain_to(&all, "a", "mysql-bin.000002", at(130))),
            Ok(vec![2, 3])
        );
        assert_eq!(
            files(chain_to(&all, "a", "mysql-bin.000009", at(130))),
            Err(ChainError::StartMissing("mysql-bin.000009".into()))
        );
        let holed: Vec<Segment> = all.iter().filter(|s| s.sequence != 3).cloned().collect();
        assert_eq!(
            files(chain_to(&holed, "a", "mysql-bin.000001", at(200))),
            Err(ChainError::Short {
                until: at(119),
                target: at(200),
                gap: Some(3)
            })
        );
        // Not archived that far yet: short, but no gap to name.
        assert_eq!(
            files(chain_to(&all, "a", "mysql-bin.000001", at(900))),
            Err(ChainError::Short {
                until: at(299),
                target: at(900),
                gap: None
            })
        );
        // File 2's last event is at 120, but a commit later in that second is in
        // file 3: a restore to 120 replays file 3 too, to 119 it need not.
        assert_eq!(
            files(chain_to(&all, "a", "mysql-bin.000001", at(120))),
            Ok(vec![1, 2, 3])
        );
        assert_eq!(
            files(chain_to(&all, "a", "mysql-bin.000001", at(119))),
            Ok(vec![1, 2])
        );
        // Another timeline's files are not this one's.
        assert!(chain_to(&all, "b", "mysql-bin.000001", at(30)).is_err());
    }
}
