//! Comparing members' transactions, in each dialect's GTIDs: what one member has that
//! another lacks (a failover's candidate must lack nothing any other member has; a
//! member with something the primary lacks has diverged), and whether a replica has
//! applied everything it received. Pure: the operator reads the sets with
//! `Dialect::state_query` and decides here.
//!
//! MariaDB writes a GTID as `domain-server-sequence`; a domain's sequence numbers only
//! grow (`gtid_strict_mode`), whichever server wrote them, and `@@gtid_binlog_state`
//! keeps the newest sequence of every (domain, server). MySQL writes sets of
//! `uuid:intervals`, compared exactly.

use std::collections::BTreeMap;

use super::Dialect;
use super::replication::MemberState;

impl Dialect {
    /// The transactions of `member` that `source` does not have, as GTIDs (empty: it
    /// has them all).
    ///
    /// MariaDB compares `member`'s newest transaction of each domain with `source`: a
    /// (domain, server) in `source`'s binary log state must be at least as far; one
    /// it never logged (it was seeded past it) is covered once `source`'s domain is
    /// further, or as far with the same transaction.
    pub fn missing_on(self, source: &MemberState, member: &MemberState) -> Vec<String> {
        match self {
            Dialect::MariaDB => {
                let known = mariadb_state(&source.binlog_state);
                let reached = mariadb_gtids(&source.executed);
                mariadb_gtids(&member.executed)
                    .into_iter()
                    .filter(|gtid| match known.get(&(gtid.domain, gtid.server)) {
                        Some(&sequence) => sequence < gtid.sequence,
                        None => !reached.iter().any(|r| {
                            r.domain == gtid.domain && (r.sequence > gtid.sequence || r == gtid)
                        }),
                    })
                    .map(|g| g.to_string())
                    .collect()
            }
            Dialect::MySQL(_) => {
                mysql_subtract(&mysql_set(&member.executed), &mysql_set(&source.executed))
            }
        }
    }

    /// What `member` wrote itself that `source` lacks: errant transactions.
    ///
    /// MariaDB: transactions logged under the member's own server id past its replica
    /// position (a replica's own writes; a former primary's are behind it once it is
    /// pointed at a new one, `repoint`), that `source` never logged. MySQL: the
    /// member's own uuid's transactions that `source` lacks. Either way, a member read
    /// a moment after `source`, ahead of its answer, is never taken for errant.
    pub fn errant(self, source: &MemberState, member: &MemberState) -> Vec<String> {
        match self {
            Dialect::MariaDB => {
                let replicated = mariadb_state(&member.slave_pos);
                let known = mariadb_state(&source.binlog_state);
                mariadb_gtids(&member.binlog_state)
                    .into_iter()
                    .filter(|g| g.server.to_string() == member.server_id)
                    .filter(|g| {
                        let applied_past = replicated
                            .iter()
                            .any(|(&(d, _), &s)| d == g.domain && s >= g.sequence);
                        let source_has = known
                            .get(&(g.domain, g.server))
                            .is_some_and(|&s| s >= g.sequence);
                        !applied_past && !source_has
                    })
                    .map(|g| g.to_string())
                    .collect()
            }
            Dialect::MySQL(_) => {
                let own = member.server_id.to_ascii_lowercase();
                self.missing_on(source, member)
                    .into_iter()
                    .filter(|gtid| gtid.to_ascii_lowercase().starts_with(&own))
                    .collect()
            }
        }
    }

    /// A replica has applied every transaction it received (its relay log is empty).
    pub fn drained(self, state: &MemberState) -> bool {
        let Some(replica) = &state.replica else {
            return true;
        };
        match self {
            Dialect::MariaDB => {
                super::replication::mariadb_position_covers(&state.executed, &replica.received)
            }
            Dialect::MySQL(_) => {
                mysql_subtract(&mysql_set(&replica.received), &mysql_set(&state.executed))
                    .is_empty()
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MariaGtid {
    domain: u32,
    server: u32,
    sequence: u64,
}

impl std::fmt::Display for MariaGtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.sequence)
    }
}

fn mariadb_gtids(text: &str) -> Vec<MariaGtid> {
    text.split(',')
        .filter_map(|g| {
            let mut parts = g.trim().split('-');
            Some(MariaGtid {
                domain: parts.next()?.parse().ok()?,
                server: parts.next()?.parse().ok()?,
                sequence: parts.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// The newest sequence of each (domain, server).
fn mariadb_state(text: &str) -> BTreeMap<(u32, u32), u64> {
    let mut state = BTreeMap::new();
    for gtid in mariadb_gtids(text) {
        let entry = state.entry((gtid.domain, gtid.server)).or_insert(0);
        *entry = (*entry).max(gtid.sequence);
    }
    state
}

/// A MySQL GTID set: each source (a uuid, with its tag when there is one) and its
/// intervals, inclusive.
type MySqlSet = BTreeMap<String, Vec<(u64, u64)>>;

fn mysql_set(text: &str) -> MySqlSet {
    let mut set = MySqlSet::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut fields = part.split(':');
        let Some(uuid) = fields.next() else { continue };
        let mut source = uuid.to_ascii_lowercase();
        for field in fields {
            let interval = match field.split_once('-') {
                Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
                None => field.parse().ok().map(|n| (n, n)),
            };
            match interval {
                Some(interval) => set.entry(source.clone()).or_default().push(interval),
                // A tag (MySQL 8.4): the intervals after it are the tagged ones.
                None => source = format!("{uuid}:{field}").to_ascii_lowercase(),
            }
        }
    }
    set
}

/// `want` minus `have`, as `uuid:a-b` pieces.
fn mysql_subtract(want: &MySqlSet, have: &MySqlSet) -> Vec<String> {
    let mut missing = Vec::new();
    for (source, intervals) in want {
        let held = have.get(source).map(Vec::as_slice).unwrap_or_default();
        for &(start, end) in intervals {
            let mut pieces = vec![(start, end)];
            for &(h_start, h_end) in held {
                pieces = pieces
                    .into_iter()
                    .flat_map(|(a, b)| {
                        let mut left = Vec::new();
                        if a < h_start {
                            left.push((a, b.min(h_start - 1)));
                        }
                        if b > h_end {
                            left.push((a.max(h_end + 1), b));
                        }
                        if b < h_start || a > h_end {
                            return vec![(a, b)];
                        }
                        left
                    })
                    .collect();
            }
            missing.extend(pieces.into_iter().map(|(a, b)| {
                if a == b {
                    format!("{source}:{a}")
                } else {
                    format!("{source}:{a}-{b}")
                }
            }));
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::replication::ReplicaState;

    const MYSQL: Dialect = Dialect::MySQL(Some((8, 4, 3)));

    fn maria(server_id: u32, executed: &str, binlog_state: &str) -> MemberState {
        MemberState {
            server_id: server_id.to_string(),
            executed: executed.to_string(),
            binlog_state: binlog_state.to_string(),
            slave_pos: executed.to_string(),
            ..MemberState::default()
        }
    }

    #[test]
    fn a_replica_behind_misses_nothing_the_primary_lacks() {
        let primary = maria(1, "0-1-100", "0-1-100");
        let replica = maria(2, "0-1-90", "0-1-90");
        assert!(Dialect::MariaDB.missing_on(&primary, &replica).is_empty());
        assert_eq!(
            Dialect::MariaDB.missing_on(&replica, &primary),
            vec!["0-1-100"],
            "the replica lacks the primary's newest"
        );
    }

    #[test]
    fn an_old_primary_with_a_tail_no_replica_got_has_diverged() {
        // The new primary (server 2) took over at 0-1-150 and wrote 0-2-151.
        let new_primary = maria(2, "0-2-160", "0-1-150,0-2-160");
        let old = maria(1, "0-1-151", "0-1-151");
        assert_eq!(
            Dialect::MariaDB.missing_on(&new_primary, &old),
            vec!["0-1-151"]
        );
        let caught_up_old = maria(1, "0-1-150", "0-1-150");
        assert!(
            Dialect::MariaDB
                .missing_on(&new_primary, &caught_up_old)
                .is_empty(),
            "a prefix rejoins"
        );
    }

    #[test]
    fn an_errant_write_on_a_replica_is_found_even_once_the_primary_is_further() {
        // Member 2 (server 3) wrote 0-3-101 itself after applying 0-1-100; the
        // primary is at 0-1-200 since.
        let primary = maria(1, "0-1-200", "0-1-200");
        let mut replica = maria(3, "0-3-101", "0-1-100,0-3-101");
        replica.slave_pos = "0-1-100".into();
        assert_eq!(Dialect::MariaDB.errant(&primary, &replica), vec!["0-3-101"]);
    }

    #[test]
    fn a_replica_ahead_of_a_stale_read_of_the_primary_is_not_errant() {
        // Read a moment later than the primary: it has 0-1-101 the primary's answer
        // did not mention yet. Not its own write: never errant.
        let primary = maria(1, "0-1-100", "0-1-100");
        let replica = maria(2, "0-1-101", "0-1-101");
        assert!(Dialect::MariaDB.errant(&primary, &replica).is_empty());
    }

    #[test]
    fn a_former_primarys_own_writes_that_reached_the_others_are_not_errant() {
        // Member 1 (server 2) was primary up to 0-2-80; member 0 is primary again and
        // member 1 follows it (its replica position moved past its own writes).
        let primary = maria(1, "0-1-120", "0-2-80,0-1-120");
        let replica = maria(2, "0-1-120", "0-2-80,0-1-120");
        assert!(Dialect::MariaDB.errant(&primary, &replica).is_empty());
        // Even against a primary seeded after them (it never logged server 2's).
        let seeded = maria(3, "0-1-120", "0-1-120");
        assert!(Dialect::MariaDB.errant(&seeded, &replica).is_empty());
    }

    #[test]
    fn a_source_seeded_after_an_old_primarys_writes_still_covers_them() {
        // Member 2 was seeded at 0-1-300: it never logged server 2's old 0-2-80.
        let source = maria(3, "0-1-320", "0-1-320");
        let stale = maria(1, "0-2-80", "0-2-80");
        assert!(Dialect::MariaDB.missing_on(&source, &stale).is_empty());
    }

    #[test]
    fn a_seeded_replica_has_what_its_dump_position_says() {
        // Seeded at 0-1-40 from the dump: its binary log is empty.
        let seeded = maria(2, "0-1-40", "");
        let primary = maria(1, "0-1-40", "0-1-40");
        assert!(Dialect::MariaDB.missing_on(&seeded, &primary).is_empty());
        let ahead = maria(1, "0-1-41", "0-1-41");
        assert_eq!(Dialect::MariaDB.missing_on(&seeded, &ahead), vec!["0-1-41"]);
    }

    #[test]
    fn the_same_sequence_from_another_server_is_a_different_transaction() {
        // The old primary's 0-1-151 never left it; the new one wrote 0-2-151.
        let new_primary = maria(2, "0-2-151", "0-2-151");
        let old = maria(1, "0-1-151", "0-1-151");
        assert_eq!(
            Dialect::MariaDB.missing_on(&new_primary, &old),
            vec!["0-1-151"]
        );
    }

    #[test]
    fn domains_are_compared_each_on_its_own() {
        let source = maria(1, "0-1-10,1-1-5", "0-1-10,1-1-5");
        let member = maria(2, "0-1-9,1-1-6", "0-1-9,1-1-6");
        assert_eq!(Dialect::MariaDB.missing_on(&source, &member), vec!["1-1-6"]);
    }

    #[test]
    fn a_replica_with_relay_log_left_is_not_drained() {
        let mut state = maria(2, "0-1-90", "0-1-90");
        state.replica = Some(ReplicaState {
            received: "0-1-95".to_string(),
            ..ReplicaState::default()
        });
        assert!(!Dialect::MariaDB.drained(&state));
        state.executed = "0-1-95".to_string();
        assert!(Dialect::MariaDB.drained(&state));
    }

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B: &str = "4e11fa47-71ca-11e1-9e33-c80aa9429562";

    fn mysql(uuid: &str, executed: &str) -> MemberState {
        MemberState {
            server_id: uuid.to_string(),
            executed: executed.to_string(),
            binlog_state: executed.to_string(),
            ..MemberState::default()
        }
    }

    #[test]
    fn mysql_sets_are_subtracted_exactly() {
        let source = mysql(A, &format!("{A}:1-10:12-20"));
        let member = mysql(B, &format!("{A}:1-21,{B}:1-2"));
        assert_eq!(
            MYSQL.missing_on(&source, &member),
            vec![format!("{A}:11"), format!("{A}:21"), format!("{B}:1-2")]
        );
        assert_eq!(MYSQL.errant(&source, &member), vec![format!("{B}:1-2")]);
        assert!(MYSQL.missing_on(&member, &source).is_empty());
    }

    #[test]
    fn mysql_tagged_gtids_are_their_own_source() {
        let source = mysql(A, &format!("{A}:1-5"));
        let member = mysql(B, &format!("{A}:1-5:backup:1-2"));
        assert_eq!(
            MYSQL.missing_on(&source, &member),
            vec![format!("{A}:backup:1-2")]
        );
    }

    #[test]
    fn mysql_drained_once_every_retrieved_gtid_is_executed() {
        let mut state = mysql(B, &format!("{A}:1-9"));
        state.replica = Some(ReplicaState {
            received: format!("{A}:1-10"),
            ..ReplicaState::default()
        });
        assert!(!MYSQL.drained(&state));
        state.executed = format!("{A}:1-10");
        assert!(MYSQL.drained(&state));
    }
}
