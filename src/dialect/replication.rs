//! Replication in each dialect's words, in one place: the options every member of a
//! replicated instance starts with, the statements the operator and its seed Job run,
//! and how a member's state reads back. MariaDB 10.11 runs for real in the tests;
//! MySQL 8.4's statements are covered by the unit tests below only.

use super::Dialect;

/// How long a primary waits for a replica to acknowledge a commit before it falls back
/// to asynchronous replication: a day, so that in practice it never does while a
/// replica is only slow or restarting (a write is not acknowledged until a replica
/// has it); the fallback, if it comes, is a condition and a Warning.
pub const SEMI_SYNC_TIMEOUT_MS: u64 = 24 * 3600 * 1000;

/// The replication account every member has (created with the binary log off on
/// each, so it is never replicated and never depends on which member is primary).
pub const REPLICATION_USER: &str = "kubectl_mysql_repl";

/// The port members replicate over.
pub const PORT: u16 = 3306;

impl Dialect {
    /// The options a member of a replicated instance adds to `server_args`: it starts
    /// read-only (a restarted member takes no write before the operator has decided
    /// it is the primary), logs what it replicates (so a replica can become the
    /// primary), and can be a semi-synchronous replica or source, the source side
    /// switched on by the operator on the primary only.
    pub fn member_args(self) -> Vec<String> {
        let mut args = vec![];
        match self {
            Dialect::MariaDB => {
                args.extend(
                    [
                        "--read-only=ON",
                        "--log-slave-updates=ON",
                        "--gtid-strict-mode=ON",
                        "--rpl-semi-sync-slave-enabled=ON",
                        "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
                    ]
                    .map(String::from),
                );
                args.push(format!(
                    "--rpl-semi-sync-master-timeout={SEMI_SYNC_TIMEOUT_MS}"
                ));
            }
            Dialect::MySQL(_) => {
                args.extend(
                    [
                        "--super-read-only=ON",
                        "--log-replica-updates=ON",
                        "--plugin-load-add=semisync_source.so",
                        "--plugin-load-add=semisync_replica.so",
                        "--loose-rpl-semi-sync-replica-enabled=ON",
                        "--loose-rpl-semi-sync-source-wait-point=AFTER_SYNC",
                    ]
                    .map(String::from),
                );
                args.push(format!(
                    "--loose-rpl-semi-sync-source-timeout={SEMI_SYNC_TIMEOUT_MS}"
                ));
            }
        }
        args
    }

    /// One batch that prints a member's state as `name: value` lines (the client's
    /// `--vertical` output), read back by `MemberState::parse`.
    pub fn state_query(self) -> &'static str {
        match self {
            Dialect::MariaDB => concat!(
                "SELECT @@read_only AS read_only, @@gtid_current_pos AS executed, ",
                "@@server_id AS server_id, @@gtid_binlog_state AS binlog_state, ",
                "@@gtid_slave_pos AS slave_pos, ",
                "@@rpl_semi_sync_master_enabled AS semi_sync_source_enabled, ",
                "@@gtid_binlog_pos = '' AS logged_nothing, ",
                "(SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES ",
                "WHERE GRANTEE = '\\'root\\'@\\'%\\'' AND PRIVILEGE_TYPE = 'READ_ONLY ADMIN') ",
                "AS network_root_bypasses_read_only, ",
                "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS ",
                "WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_STATUS') AS semi_sync_source, ",
                "(SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS ",
                "WHERE VARIABLE_NAME = 'RPL_SEMI_SYNC_MASTER_CLIENTS') AS semi_sync_clients;\n",
                "SHOW SLAVE STATUS;\n"
            ),
            Dialect::MySQL(_) => concat!(
                "SELECT @@super_read_only AS read_only, @@gtid_executed AS executed, ",
                "@@server_uuid AS server_id, @@gtid_executed AS binlog_state, '' AS slave_pos, ",
                "@@rpl_semi_sync_source_enabled AS semi_sync_source_enabled, ",
                "GTID_SUBTRACT(@@gtid_executed, @@gtid_purged) = '' AS logged_nothing, ",
                "(SELECT VARIABLE_VALUE FROM performance_schema.global_status ",
                "WHERE VARIABLE_NAME = 'Rpl_semi_sync_source_status') AS semi_sync_source, ",
                "(SELECT VARIABLE_VALUE FROM performance_schema.global_status ",
                "WHERE VARIABLE_NAME = 'Rpl_semi_sync_source_clients') AS semi_sync_clients;\n",
                "SHOW REPLICA STATUS;\n"
            ),
        }
    }

    /// Makes the primary semi-synchronous as a source: from then on no commit is
    /// acknowledged before a replica has it.
    pub fn semi_sync_source_on(self) -> &'static str {
        match self {
            Dialect::MariaDB => "SET GLOBAL rpl_semi_sync_master_enabled = ON;\n",
            Dialect::MySQL(_) => "SET GLOBAL rpl_semi_sync_source_enabled = ON;\n",
        }
    }

    /// A member that is no source any more stops being a semi-synchronous one: with
    /// its binary log taking what it replicates, each applied transaction would wait
    /// for an acknowledgement no replica of its own sends.
    pub fn semi_sync_source_off(self) -> &'static str {
        match self {
            Dialect::MariaDB => "SET GLOBAL rpl_semi_sync_master_enabled = OFF;\n",
            Dialect::MySQL(_) => "SET GLOBAL rpl_semi_sync_source_enabled = OFF;\n",
        }
    }

    /// A replica stops taking (and acknowledging) the failed primary's transactions,
    /// and goes on applying what it has received: the first step of a failover.
    pub fn stop_receiving(self) -> &'static str {
        match self {
            Dialect::MariaDB => "STOP SLAVE IO_THREAD;\n",
            Dialect::MySQL(_) => "STOP REPLICA IO_THREAD;\n",
        }
    }

    /// A replica whose receiving was stopped by a failover that did not happen (the
    /// primary came back holding every transaction) takes the primary's again.
    pub fn resume_receiving(self) -> &'static str {
        match self {
            Dialect::MariaDB => "START SLAVE IO_THREAD;\n",
            Dialect::MySQL(_) => "START REPLICA IO_THREAD;\n",
        }
    }

    /// Makes the primary take writes.
    pub fn writable(self) -> &'static str {
        match self {
            Dialect::MariaDB => "SET GLOBAL read_only = OFF;\n",
            Dialect::MySQL(_) => "SET GLOBAL super_read_only = OFF;\nSET GLOBAL read_only = OFF;\n",
        }
    }

    /// Takes a member out of service as a primary: read-only, then the ids of every
    /// client connection to kill (`ID: n` lines), so that no session goes on writing
    /// (root's keeps `READ_ONLY ADMIN` on MariaDB; a killed one is gone).
    pub fn fence(self) -> String {
        let read_only = self.demote();
        let source_off = self.semi_sync_source_off();
        format!(
            "{read_only}{source_off}SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
             AND USER NOT IN ('system user', 'event_scheduler', '{REPLICATION_USER}') \
             AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon');\n"
        )
    }

    /// Promotes a replica that has caught up: it stops replicating, forgets its source,
    /// turns its semi-synchronous source side on afresh (a former replica's status
    /// stays off until it is switched off and on), and takes writes.
    pub fn promote(self) -> &'static str {
        match self {
            Dialect::MariaDB => concat!(
                "STOP SLAVE;\nRESET SLAVE ALL;\n",
                "SET GLOBAL rpl_semi_sync_master_enabled = OFF;\n",
                "SET GLOBAL rpl_semi_sync_master_enabled = ON;\n",
                "SET GLOBAL read_only = OFF;\n"
            ),
            Dialect::MySQL(_) => concat!(
                "STOP REPLICA;\nRESET REPLICA ALL;\n",
                "SET GLOBAL rpl_semi_sync_source_enabled = OFF;\n",
                "SET GLOBAL rpl_semi_sync_source_enabled = ON;\n",
                "SET GLOBAL super_read_only = OFF;\nSET GLOBAL read_only = OFF;\n"
            ),
        }
    }

    /// Points a member that holds data (a replica of the old primary, or the old
    /// primary itself) at a new source, from everything it has applied or written.
    /// MariaDB: its replica position becomes `gtid_current_pos` first (an old
    /// primary's own transactions are in its binary log, not in its replica position),
    /// as MariaDB's manual has a former master do: from then on a transaction of its
    /// own past its replica position is one it wrote as a replica (errant).
    pub fn repoint(self, source_host: &str, password_sql: &str, tls: bool) -> String {
        let stop = match self {
            Dialect::MariaDB => "STOP SLAVE;\nSET GLOBAL gtid_slave_pos = @@gtid_current_pos;\n",
            Dialect::MySQL(_) => "STOP REPLICA;\n",
        };
        let stop = format!("{}{stop}", self.semi_sync_source_off());
        let follow = self.replicate_from(source_host, password_sql, tls);
        format!("{stop}{follow}")
    }

    /// With replicas, MariaDB's `read_only` must hold for root over the network too:
    /// `ALL PRIVILEGES` includes `READ_ONLY ADMIN`, which writes through it. Run on the
    /// primary, logged, so that every member (and every seed) has it; root over the
    /// local socket (`root@localhost`: the operator, probes, `kubectl exec`) keeps it.
    /// MySQL's `super_read_only` binds everyone already.
    pub fn restrict_network_root(self) -> Option<&'static str> {
        match self {
            Dialect::MariaDB => Some("REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'%';\n"),
            Dialect::MySQL(_) => None,
        }
    }

    /// Makes a member refuse writes: MySQL's `super_read_only` binds everyone;
    /// MariaDB's `read_only` lets `READ_ONLY ADMIN` through, which the network root
    /// loses with `restrict_network_root` (the operator, over the socket, keeps it).
    pub fn demote(self) -> &'static str {
        match self {
            Dialect::MariaDB => "SET GLOBAL read_only = ON;\n",
            Dialect::MySQL(_) => "SET GLOBAL super_read_only = ON;\n",
        }
    }

    /// Empties a freshly initialised member's own binary log and GTID state before a
    /// seed is loaded into it: its GTID history must be the primary's alone.
    pub fn reset_for_seed(self) -> &'static str {
        match self {
            Dialect::MariaDB => "STOP SLAVE;\nRESET SLAVE ALL;\nRESET MASTER;\n",
            // `super_read_only` refuses root too: the load needs it off; pointing the
            // member at its source turns it on again.
            Dialect::MySQL(_) => concat!(
                "STOP REPLICA;\nRESET REPLICA ALL;\nSET GLOBAL super_read_only = OFF;\n",
                "RESET BINARY LOGS AND GTIDS;\n"
            ),
        }
    }

    /// mysqldump's flags for a seed: one consistent snapshot of every database, with
    /// the GTID position it stands at set on load (the member replicates from there).
    pub fn seed_dump_flags(self) -> Vec<&'static str> {
        let mut flags = vec![
            "--single-transaction",
            "--all-databases",
            "--routines",
            "--events",
            "--triggers",
            // The system tables come with the rest: the new member's accounts are the
            // primary's, in force at once.
            "--flush-privileges",
        ];
        match self {
            // `--gtid --master-data=1` ends the dump with `SET GLOBAL gtid_slave_pos`.
            Dialect::MariaDB => flags.extend(["--gtid", "--master-data=1"]),
            Dialect::MySQL(_) => flags.extend(["--source-data=2", "--set-gtid-purged=ON"]),
        }
        flags
    }

    /// Points a member at `source_host` and starts replicating from the GTID position
    /// its data stands at. `password_sql` is a SQL string literal for the replication
    /// password, or an expansion a shell heredoc fills in: the password is never in
    /// an argument. With `tls` it connects over TLS and verifies the source's
    /// certificate against the instance's CA (mounted in the member's server at
    /// `TLS_DIR`) and its member address; without, TLS is said off, so a member that
    /// had it (TLS turned off since) does not look for a CA that is gone.
    pub fn replicate_from(self, source_host: &str, password_sql: &str, tls: bool) -> String {
        let ca = format!("{}/ca.crt", crate::api::TLS_DIR);
        let (on, ca, verify) = if tls { (1, ca.as_str(), 1) } else { (0, "", 0) };
        match self {
            Dialect::MariaDB => format!(
                "CHANGE MASTER TO MASTER_HOST = '{source_host}', MASTER_PORT = {PORT}, \
                 MASTER_USER = '{REPLICATION_USER}', MASTER_PASSWORD = {password_sql}, \
                 MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 5, \
                 MASTER_SSL = {on}, MASTER_SSL_CA = '{ca}', \
                 MASTER_SSL_VERIFY_SERVER_CERT = {verify};\nSTART SLAVE;\n"
            ),
            Dialect::MySQL(_) => format!(
                "SET GLOBAL super_read_only = ON;\nCHANGE REPLICATION SOURCE TO SOURCE_HOST = '{source_host}', \
                 SOURCE_PORT = {PORT}, SOURCE_USER = '{REPLICATION_USER}', \
                 SOURCE_PASSWORD = {password_sql}, SOURCE_AUTO_POSITION = 1, \
                 SOURCE_CONNECT_RETRY = 5, GET_SOURCE_PUBLIC_KEY = 1, \
                 SOURCE_SSL = {on}, SOURCE_SSL_CA = '{ca}', \
                 SOURCE_SSL_VERIFY_SERVER_CERT = {verify};\nSTART REPLICA;\n"
            ),
        }
    }

    /// Creates the replication account on this member alone (the binary log off), or
    /// sets its password: the same statements on a new member and an existing one.
    pub fn replication_account(self, password_sql: &str) -> String {
        let grant = match self {
            Dialect::MariaDB => "REPLICATION SLAVE, REPLICATION CLIENT",
            Dialect::MySQL(_) => "REPLICATION SLAVE, REPLICATION CLIENT",
        };
        format!(
            "SET SESSION sql_log_bin = 0;\n\
             CREATE USER IF NOT EXISTS '{REPLICATION_USER}'@'%' IDENTIFIED BY {password_sql};\n\
             ALTER USER '{REPLICATION_USER}'@'%' IDENTIFIED BY {password_sql};\n\
             GRANT {grant} ON *.* TO '{REPLICATION_USER}'@'%';\n\
             SET SESSION sql_log_bin = 1;\n"
        )
    }

    /// Prints 1 when a member has written no transaction of its own with its binary
    /// log on (a fresh one, or one a seed was loaded into): only such a member is
    /// seeded over.
    pub fn fresh_query(self) -> &'static str {
        match self {
            Dialect::MariaDB => "SELECT @@GLOBAL.gtid_binlog_pos = '';\n",
            Dialect::MySQL(_) => {
                "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, @@GLOBAL.gtid_purged) = '';\n"
            }
        }
    }

    /// Prints every transaction a primary has written, as `applied_shell_check` reads it.
    pub fn written_query(self) -> &'static str {
        match self {
            Dialect::MariaDB => "SELECT @@GLOBAL.gtid_binlog_pos",
            Dialect::MySQL(_) => "SELECT @@GLOBAL.gtid_executed",
        }
    }

    /// Asks a member what it has applied or written, for `has_applied`: MariaDB's
    /// binary log position (every member logs what it replicates, and a former
    /// primary's own transactions are there, not in its replica position, which is
    /// all `MASTER_GTID_WAIT` watches); MySQL answers the question itself.
    pub fn applied_query(self, set: &str) -> String {
        let set = set.replace('\'', "");
        match self {
            Dialect::MariaDB => "SELECT @@GLOBAL.gtid_binlog_pos AS applied;\n".to_string(),
            Dialect::MySQL(_) => {
                format!("SELECT GTID_SUBSET('{set}', @@GLOBAL.gtid_executed) AS applied;\n")
            }
        }
    }

    /// Whether `answer` (the `--vertical` output of `applied_query(set)`) says every
    /// transaction of `set` is applied.
    pub fn has_applied(self, answer: &str, set: &str) -> bool {
        let applied = answer
            .lines()
            .find_map(|l| l.trim().strip_prefix("applied:"))
            .map(str::trim);
        match (self, applied) {
            (Dialect::MariaDB, Some(position)) => mariadb_position_covers(position, set),
            (Dialect::MySQL(_), Some(subset)) => subset == "1",
            (_, None) => false,
        }
    }

    /// A shell condition, true once the server at `$MYSQL_HOST` has applied the set in
    /// `$primary_position` (for a Job that has only `sh` and the client).
    pub fn applied_shell_check(self) -> String {
        let client = r#"mysql --defaults-extra-file="$CREDENTIALS/client.cnf" --host="$MYSQL_HOST" --user=root -N -B"#;
        match self {
            // Every domain of the primary's position at a sequence number at least as
            // high on the member (sequence numbers only grow, gtid_strict_mode).
            Dialect::MariaDB => format!(
                r#"applied=$({client} -e 'SELECT @@GLOBAL.gtid_binlog_pos') && echo "$primary_position" | tr ',' '\n' | awk -F- -v have="$applied" 'BEGIN {{ n = split(have, h, ","); for (i = 1; i <= n; i++) {{ split(h[i], p, "-"); seq[p[1]] = p[3] }} }} NF == 3 && !($1 in seq && seq[$1] + 0 >= $3 + 0) {{ missing = 1 }} END {{ exit missing }}'"#
            ),
            Dialect::MySQL(_) => format!(
                r#"[ "$({client} -e "SELECT GTID_SUBSET('$primary_position', @@GLOBAL.gtid_executed)")" = 1 ]"#
            ),
        }
    }
}

/// MariaDB: every domain of `want` (`0-1-57,1-2-9`) is in `have` at a sequence number
/// at least as high. A domain's numbers only grow (`gtid_strict_mode`), whichever
/// server wrote them.
pub fn mariadb_position_covers(have: &str, want: &str) -> bool {
    let parse = |text: &str| -> Vec<(u32, u64)> {
        text.split(',')
            .filter_map(|g| {
                let mut parts = g.trim().split('-');
                let domain = parts.next()?.parse().ok()?;
                let _server = parts.next()?;
                let sequence = parts.next()?.parse().ok()?;
                Some((domain, sequence))
            })
            .collect()
    };
    let have = parse(have);
    parse(want)
        .iter()
        .all(|(domain, sequence)| have.iter().any(|(d, s)| d == domain && s >= sequence))
}

/// What a member's server says about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberState {
    pub read_only: bool,
    /// Every transaction the member has applied, as its server writes a GTID set
    /// (MariaDB: the newest of each domain).
    pub executed: String,
    /// MariaDB: the newest transaction of each (domain, server) in its binary log;
    /// MySQL: `executed` again.
    pub binlog_state: String,
    /// MariaDB: `@@server_id`; MySQL: `@@server_uuid` (what its own GTIDs carry).
    pub server_id: String,
    /// MariaDB: the newest transaction of each domain it applied as a replica (or
    /// was seeded at); MySQL: empty.
    pub slave_pos: String,
    /// It has logged no transaction of its own (`fresh_query`): a new member, or one a
    /// seed was loaded into; only such a member is seeded over.
    pub logged_nothing: bool,
    /// MariaDB: root over the network still has `READ_ONLY ADMIN` (writes through
    /// `read_only`).
    pub network_root_bypasses_read_only: bool,
    /// The semi-synchronous source side is switched on.
    pub semi_sync_source_enabled: bool,
    /// As a source: semi-synchronous replication is on and waiting for replicas
    /// (None when the server does not say: the source side was never switched on).
    pub semi_sync_source: Option<bool>,
    pub semi_sync_clients: u32,
    /// As a replica: where it replicates from and how; None when it is none.
    pub replica: Option<ReplicaState>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaState {
    pub source_host: String,
    /// Every transaction received from the source (applied or still in the relay log).
    pub received: String,
    pub io_running: bool,
    /// The receiving thread is trying to reach its source (it would receive, and
    /// acknowledge, once it does).
    pub io_connecting: bool,
    pub sql_running: bool,
    /// None while the SQL thread is stopped (the server cannot say).
    pub seconds_behind: Option<u64>,
    /// The newest I/O or SQL error, when there is one.
    pub last_error: Option<String>,
    /// The applier's error: it stopped on a transaction.
    pub sql_error: Option<String>,
    /// The receiver's error (it cannot reach its source, or the source refuses it).
    pub io_error: Option<String>,
    /// It connects to its source over TLS (`MASTER_SSL`/`SOURCE_SSL`).
    pub tls: bool,
}

impl MemberState {
    /// Reads the `--vertical` output of `state_query` (either dialect's names).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut state = MemberState::default();
        let mut replica: Option<ReplicaState> = None;
        let mut saw_read_only = false;
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let yes = value.eq_ignore_ascii_case("yes");
            let on = value == "1" || value.eq_ignore_ascii_case("on");
            match key {
                "read_only" => {
                    state.read_only = on;
                    saw_read_only = true;
                }
                "executed" => state.executed = value.replace(['\n', ' '], ""),
                "binlog_state" => state.binlog_state = value.replace(['\n', ' '], ""),
                "server_id" => state.server_id = value.to_string(),
                "slave_pos" => state.slave_pos = value.replace(['\n', ' '], ""),
                "logged_nothing" => state.logged_nothing = on,
                "semi_sync_source_enabled" => state.semi_sync_source_enabled = on,
                "network_root_bypasses_read_only" => {
                    state.network_root_bypasses_read_only = value != "0"
                }
                "semi_sync_source" if value != "NULL" => state.semi_sync_source = Some(on),
                "semi_sync_clients" => state.semi_sync_clients = value.parse().unwrap_or(0),
                _ => {}
            }
            let r = || ReplicaState::default();
            match key {
                "Master_Host" | "Source_Host" => {
                    replica.get_or_insert_with(r).source_host = value.to_string()
                }
                "Master_SSL_Allowed" | "Source_SSL_Allowed" => {
                    replica.get_or_insert_with(r).tls = yes
                }
                "Gtid_IO_Pos" | "Retrieved_Gtid_Set" => {
                    replica.get_or_insert_with(r).received = value.replace(' ', "")
                }
                "Slave_IO_Running" | "Replica_IO_Running" => {
                    let replica = replica.get_or_insert_with(r);
                    replica.io_running = yes;
                    replica.io_connecting = value.eq_ignore_ascii_case("connecting");
                }
                "Slave_SQL_Running" | "Replica_SQL_Running" => {
                    replica.get_or_insert_with(r).sql_running = yes
                }
                "Seconds_Behind_Master" | "Seconds_Behind_Source" => {
                    replica.get_or_insert_with(r).seconds_behind = value.parse().ok()
                }
                "Last_IO_Error" if !value.is_empty() => {
                    let replica = replica.get_or_insert_with(r);
                    replica.io_error = Some(value.to_string());
                    replica.last_error = Some(value.to_string());
                }
                "Last_SQL_Error" if !value.is_empty() => {
                    let replica = replica.get_or_insert_with(r);
                    replica.sql_error = Some(value.to_string());
                    replica.last_error = Some(value.to_string());
                }
                _ => {}
            }
        }
        if !saw_read_only {
            return Err(format!(
                "the server's state has no read_only line: {:?}",
                text.lines().take(3).collect::<Vec<_>>()
            ));
        }
        state.replica = replica;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MYSQL: Dialect = Dialect::MySQL(Some((8, 4, 3)));

    #[test]
    fn members_start_read_only_and_able_to_be_semi_synchronous() {
        let maria = Dialect::MariaDB.member_args();
        assert!(maria.contains(&"--read-only=ON".to_string()));
        assert!(maria.contains(&"--log-slave-updates=ON".to_string()));
        assert!(maria.contains(&"--rpl-semi-sync-master-wait-point=AFTER_SYNC".to_string()));
        assert!(maria.contains(&"--rpl-semi-sync-master-timeout=86400000".to_string()));
        assert!(
            !maria.iter().any(|a| a.contains("master-enabled")),
            "the source side is the operator's to switch on, on the primary"
        );
        let mysql = MYSQL.member_args();
        assert!(mysql.contains(&"--super-read-only=ON".to_string()));
        assert!(mysql.contains(&"--plugin-load-add=semisync_source.so".to_string()));
        assert!(mysql.contains(&"--loose-rpl-semi-sync-source-wait-point=AFTER_SYNC".to_string()));
    }

    #[test]
    fn the_primary_is_made_writable_and_semi_synchronous() {
        assert_eq!(
            Dialect::MariaDB.semi_sync_source_on(),
            "SET GLOBAL rpl_semi_sync_master_enabled = ON;\n"
        );
        assert_eq!(
            MYSQL.semi_sync_source_on(),
            "SET GLOBAL rpl_semi_sync_source_enabled = ON;\n"
        );
        assert_eq!(Dialect::MariaDB.writable(), "SET GLOBAL read_only = OFF;\n");
        assert!(
            MYSQL
                .writable()
                .starts_with("SET GLOBAL super_read_only = OFF;")
        );
        assert_eq!(Dialect::MariaDB.demote(), "SET GLOBAL read_only = ON;\n");
        assert_eq!(MYSQL.demote(), "SET GLOBAL super_read_only = ON;\n");
    }

    #[test]
    fn a_switchover_fences_promotes_and_repoints() {
        let fence = Dialect::MariaDB.fence();
        assert!(fence.starts_with("SET GLOBAL read_only = ON;"));
        assert!(
            fence.contains("information_schema.PROCESSLIST") && fence.contains(REPLICATION_USER)
        );
        assert!(
            MYSQL
                .fence()
                .starts_with("SET GLOBAL super_read_only = ON;")
        );
        let promote = Dialect::MariaDB.promote();
        assert!(promote.starts_with("STOP SLAVE;\nRESET SLAVE ALL;"));
        let off = promote.find("rpl_semi_sync_master_enabled = OFF").unwrap();
        let on = promote.find("rpl_semi_sync_master_enabled = ON").unwrap();
        assert!(off < on && on < promote.find("read_only = OFF").unwrap());
        assert!(MYSQL.promote().contains("RESET REPLICA ALL"));
        let repoint = Dialect::MariaDB.repoint("db-member-1.ns.svc", "'@P@'", false);
        assert!(repoint.starts_with(
            "SET GLOBAL rpl_semi_sync_master_enabled = OFF;\nSTOP SLAVE;\nSET GLOBAL gtid_slave_pos = @@gtid_current_pos;\nCHANGE MASTER TO MASTER_HOST = 'db-member-1.ns.svc'"
        ));
        assert!(
            Dialect::MariaDB
                .fence()
                .contains("rpl_semi_sync_master_enabled = OFF")
        );
        assert!(repoint.contains("MASTER_USE_GTID = slave_pos"));
        let mysql = MYSQL.repoint("db-member-1.ns.svc", "'@P@'", false);
        assert!(mysql.contains("STOP REPLICA;\n") && mysql.contains("SOURCE_AUTO_POSITION = 1"));
    }

    #[test]
    fn root_over_the_network_loses_the_bypass_of_read_only_on_mariadb() {
        assert_eq!(
            Dialect::MariaDB.restrict_network_root(),
            Some("REVOKE READ_ONLY ADMIN ON *.* FROM 'root'@'%';\n")
        );
        assert_eq!(MYSQL.restrict_network_root(), None);
        assert!(Dialect::MariaDB.state_query().contains("'READ_ONLY ADMIN'"));
        let state =
            MemberState::parse("read_only: 0\nnetwork_root_bypasses_read_only: 1\n").unwrap();
        assert!(state.network_root_bypasses_read_only);
    }

    #[test]
    fn a_seed_resets_the_new_member_and_loads_the_sources_position() {
        assert!(Dialect::MariaDB.reset_for_seed().contains("RESET MASTER"));
        assert!(
            MYSQL
                .reset_for_seed()
                .contains("RESET BINARY LOGS AND GTIDS")
        );
        let maria = Dialect::MariaDB.seed_dump_flags();
        assert!(maria.contains(&"--gtid") && maria.contains(&"--master-data=1"));
        assert!(maria.contains(&"--single-transaction"));
        assert!(MYSQL.seed_dump_flags().contains(&"--set-gtid-purged=ON"));
    }

    #[test]
    fn a_replica_follows_by_gtid_in_each_dialects_words() {
        let maria = Dialect::MariaDB.replicate_from("db-member-0.ns.svc", "'$PASSWORD'", false);
        assert!(maria.starts_with("CHANGE MASTER TO MASTER_HOST = 'db-member-0.ns.svc'"));
        assert!(maria.contains("MASTER_USE_GTID = slave_pos"));
        assert!(maria.contains("MASTER_PASSWORD = '$PASSWORD'"));
        assert!(maria.ends_with("START SLAVE;\n"));
        let mysql = MYSQL.replicate_from("db-member-0.ns.svc", "'$PASSWORD'", false);
        assert!(
            mysql.starts_with("SET GLOBAL super_read_only = ON;\nCHANGE REPLICATION SOURCE TO")
        );
        assert!(mysql.contains("SOURCE_AUTO_POSITION = 1"));
        assert!(mysql.ends_with("START REPLICA;\n"));
        assert!(
            maria
                .contains("MASTER_SSL = 0, MASTER_SSL_CA = '', MASTER_SSL_VERIFY_SERVER_CERT = 0;")
        );
        assert!(
            mysql
                .contains("SOURCE_SSL = 0, SOURCE_SSL_CA = '', SOURCE_SSL_VERIFY_SERVER_CERT = 0;")
        );
    }

    #[test]
    fn with_tls_a_replica_verifies_its_source_against_the_instances_ca() {
        let maria = Dialect::MariaDB.replicate_from("db-member-0.ns.svc", "'$PASSWORD'", true);
        assert!(maria.contains(
            "MASTER_SSL = 1, MASTER_SSL_CA = '/etc/mysql-tls/ca.crt', MASTER_SSL_VERIFY_SERVER_CERT = 1;\nSTART SLAVE;"
        ), "{maria}");
        let mysql = MYSQL.repoint("db-member-0.ns.svc", "'$PASSWORD'", true);
        assert!(mysql.contains(
            "SOURCE_SSL = 1, SOURCE_SSL_CA = '/etc/mysql-tls/ca.crt', SOURCE_SSL_VERIFY_SERVER_CERT = 1;\nSTART REPLICA;"
        ), "{mysql}");
        let state = MemberState::parse(
            "read_only: 1\nMaster_Host: db-member-0.ns.svc\nMaster_SSL_Allowed: Yes\n",
        )
        .unwrap();
        assert!(state.replica.unwrap().tls);
        let state = MemberState::parse(
            "read_only: 1\nSource_Host: db-member-0.ns.svc\nSource_SSL_Allowed: No\n",
        )
        .unwrap();
        assert!(!state.replica.unwrap().tls);
    }

    #[test]
    fn the_replication_account_is_never_replicated() {
        for dialect in [Dialect::MariaDB, MYSQL] {
            let sql = dialect.replication_account("'$PASSWORD'");
            assert!(sql.starts_with("SET SESSION sql_log_bin = 0;"), "{sql}");
            assert!(sql.contains("GRANT REPLICATION SLAVE"));
            assert!(sql.contains(REPLICATION_USER));
        }
    }

    #[test]
    fn a_fresh_member_is_one_with_no_logged_transaction_of_its_own() {
        assert!(
            Dialect::MariaDB
                .fresh_query()
                .contains("gtid_binlog_pos = ''")
        );
        assert!(MYSQL.fresh_query().contains("GTID_SUBTRACT"));
    }

    #[test]
    fn what_a_primary_wrote_reads_as_a_gtid_set() {
        assert_eq!(
            Dialect::MariaDB.written_query(),
            "SELECT @@GLOBAL.gtid_binlog_pos"
        );
        assert_eq!(MYSQL.written_query(), "SELECT @@GLOBAL.gtid_executed");
    }

    #[test]
    fn a_member_has_applied_a_set_when_every_domain_is_as_far() {
        assert!(mariadb_position_covers("0-2-18", "0-2-18"));
        assert!(
            mariadb_position_covers("0-1-19", "0-2-18"),
            "another server wrote later"
        );
        assert!(!mariadb_position_covers("0-2-17", "0-2-18"));
        assert!(mariadb_position_covers("0-1-40,1-2-9", "1-2-9,0-1-12"));
        assert!(
            !mariadb_position_covers("0-1-40", "0-1-12,1-2-9"),
            "a domain missing"
        );
        assert!(
            mariadb_position_covers("0-1-3", ""),
            "nothing written: nothing to wait for"
        );
        let maria = Dialect::MariaDB;
        assert!(maria.has_applied("applied: 0-1-20\n", "0-1-19"));
        assert!(!maria.has_applied("applied: 0-1-18\n", "0-1-19"));
        assert!(!maria.has_applied("ERROR", "0-1-19"));
        assert_eq!(
            maria.applied_query("0-1-19"),
            "SELECT @@GLOBAL.gtid_binlog_pos AS applied;\n"
        );
        assert!(
            MYSQL
                .applied_query("u:1-5")
                .contains("GTID_SUBSET('u:1-5', @@GLOBAL.gtid_executed)")
        );
        assert!(MYSQL.has_applied("applied: 1\n", "u:1-5"));
        assert!(!MYSQL.has_applied("applied: 0\n", "u:1-5"));
    }

    #[test]
    fn the_applied_check_in_shell_compares_each_domain() {
        let check = Dialect::MariaDB.applied_shell_check();
        let run = |have: &str, want: &str| {
            // The client answers with `have`: the check's own comparison, run by sh.
            let script = check.replace(
                r#"$(mysql --defaults-extra-file="$CREDENTIALS/client.cnf" --host="$MYSQL_HOST" --user=root -N -B -e 'SELECT @@GLOBAL.gtid_binlog_pos')"#,
                &format!("'{have}'"),
            );
            std::process::Command::new("sh")
                .args(["-c", &script])
                .env("primary_position", want)
                .status()
                .unwrap()
                .success()
        };
        assert!(run("0-2-18", "0-2-18"));
        assert!(run("0-1-19,1-1-2", "0-2-18,1-1-2"));
        assert!(!run("0-2-17", "0-2-18"));
        assert!(!run("0-2-40", "0-2-18,1-1-2"));
        assert!(
            MYSQL
                .applied_shell_check()
                .contains("GTID_SUBSET('$primary_position'")
        );
    }

    #[test]
    fn a_primarys_state_reads_back() {
        let text = "*************************** 1. row ***************************\n\
                    read_only: 0\n\
                    executed: 0-1-42\n\
                    logged_nothing: 0\n\
                    semi_sync_source: ON\n\
                    semi_sync_clients: 2\n";
        assert_eq!(
            MemberState::parse(text),
            Ok(MemberState {
                read_only: false,
                executed: "0-1-42".into(),
                logged_nothing: false,
                semi_sync_source_enabled: false,
                network_root_bypasses_read_only: false,
                semi_sync_source: Some(true),
                semi_sync_clients: 2,
                replica: None,
                ..MemberState::default()
            })
        );
    }

    #[test]
    fn a_replicas_state_reads_back_in_both_dialects() {
        let maria = "read_only: 1\nexecuted: 0-1-42\nsemi_sync_source: NULL\nsemi_sync_clients: NULL\n\
                     *************************** 1. row ***************************\n\
                     Slave_IO_State: Waiting for master to send event\n\
                     Master_Host: db-member-0.ns.svc\n\
                     Slave_IO_Running: Yes\n\
                     Slave_SQL_Running: Yes\n\
                     Last_IO_Error: \n\
                     Seconds_Behind_Master: 3\n";
        let state = MemberState::parse(maria).unwrap();
        assert!(state.read_only);
        assert_eq!(state.semi_sync_source, None);
        assert_eq!(
            state.replica,
            Some(ReplicaState {
                source_host: "db-member-0.ns.svc".into(),
                io_running: true,
                sql_running: true,
                seconds_behind: Some(3),
                last_error: None,
                ..ReplicaState::default()
            })
        );
        let mysql = "read_only: 1\nexecuted: 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57\n\
                     Source_Host: db-member-1.ns.svc\nReplica_IO_Running: Connecting\n\
                     Replica_SQL_Running: Yes\nSeconds_Behind_Source: NULL\n\
                     Last_IO_Error: error connecting to master\n";
        let replica = MemberState::parse(mysql).unwrap().replica.unwrap();
        assert!(!replica.io_running);
        assert!(
            replica.io_connecting,
            "still trying: it would acknowledge once through"
        );
        assert_eq!(replica.sql_error, None);
        assert_eq!(replica.seconds_behind, None);
        assert_eq!(
            replica.last_error.as_deref(),
            Some("error connecting to master")
        );
        assert!(MemberState::parse("ERROR 2002").is_err());
    }

    #[test]
    fn what_a_failover_compares_reads_back() {
        let maria = "read_only: 1\nexecuted: 0-2-42\nserver_id: 2\nbinlog_state: 0-1-40,0-2-42\n\
                     Master_Host: db-member-0.ns.svc\nSlave_IO_Running: No\nSlave_SQL_Running: No\n\
                     Last_SQL_Error: An attempt was made to binlog GTID 0-1-43 which would create an out-of-order sequence number\n\
                     Gtid_IO_Pos: 0-1-43\n";
        let state = MemberState::parse(maria).unwrap();
        assert_eq!(state.server_id, "2");
        assert_eq!(state.binlog_state, "0-1-40,0-2-42");
        let replica = state.replica.unwrap();
        assert_eq!(replica.received, "0-1-43");
        assert!(replica.sql_error.unwrap().contains("out-of-order"));
        assert_eq!(replica.io_error, None);
        assert!(
            Dialect::MariaDB
                .state_query()
                .contains("@@gtid_binlog_state AS binlog_state")
        );
        assert!(MYSQL.state_query().contains("@@server_uuid AS server_id"));
        assert_eq!(Dialect::MariaDB.stop_receiving(), "STOP SLAVE IO_THREAD;\n");
        assert_eq!(MYSQL.stop_receiving(), "STOP REPLICA IO_THREAD;\n");
        assert_eq!(MYSQL.resume_receiving(), "START REPLICA IO_THREAD;\n");
    }
}
