# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_mysql_global_optspecs
    string join \n n/namespace= kubeconfig= context= v/verbose q/quiet log-format= templates= h/help V/version
end

function __fish_kubectl_mysql_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_mysql_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_mysql_using_subcommand
    set -l cmd (__fish_kubectl_mysql_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "install-crd" -d 'Install or update the CRDs (server-side apply) and wait until they are Established'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "install-operator" -d 'Install the operator in the cluster: CRDs, namespace, least-privilege RBAC, a leader-elected Deployment'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "uninstall-operator" -d 'Remove what install-operator installed; CRDs, instances and backups stay'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "create" -d 'Create a MySQL instance'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "status" -d 'Show one instance in detail, or list instances'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "backup" -d 'Start an on-demand backup of an instance, or list its backups'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "restore" -d 'Restore a running instance from a backup'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "switchover" -d 'Move the primary of a replicated instance to a replica (planned: no committed transaction lost; writes pause until the replica has caught up)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "connect" -d 'Open the mysql client in the instance\'s server (no password in argv anywhere); `-- -e "SQL"` runs one statement and returns its exit code'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "pause" -d 'Stop reconciling an instance (no applies, no Jobs, no deletion backup) until resumed'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "resume" -d 'Reconcile a paused instance again'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "restart" -d 'Restart an instance\'s servers, applying changes held by spec.updatePolicy manual'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "run-operator" -d 'Run the operator in the foreground against the current kubeconfig'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "completion" -d 'Print a shell completion script (bash, zsh or fish)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "version" -d 'Print the plugin\'s version and commit, and the versions of the CRDs and operators in the cluster (warning when they differ)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "object-store" -d 'Move dumps to and from S3-compatible storage (what the backup and restore Jobs run from the operator\'s image)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "decompress-dump" -d 'Stream a verified, compressed dump decompressed into a pipe (what the restore Job runs from the operator\'s image beside the server\'s client)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "remove-dump" -d 'Delete a dump on the backup volume with its checksum (what the prune Job runs from the operator\'s image)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "store-dump" -d 'Compress, checksum and store a physical copy on the backup volume as it streams in (what a physical backup Job to the volume runs from the operator\'s image)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "unpack-copy" -d 'Unpack a checked MySQL clone into a directory (what a physical restore or verification of MySQL runs from the operator\'s image)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_needs_command" -f -a "__complete" -d 'Answer kubectl\'s plugin completion protocol (used by completions/kubectl_complete-mysql)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -s o -l output -d 'Output format; `yaml` prints the CRDs without applying them' -r -f -a "yaml\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -l dry-run -d 'Print the CRDs as YAML instead of applying them'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-crd" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l image -d 'The operator\'s image (build it with the Dockerfile and load it into the cluster)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l replicas -d 'How many replicas; one leads through a Lease, the others stand by' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l watch-namespace -d 'Watch only this namespace (repeatable). Default: all namespaces' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -l dry-run -d 'Print the manifests as YAML; change nothing'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand install-operator" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand uninstall-operator" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s f -l file -d 'Create from a MySQL manifest instead of flags' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l image -d 'MySQL 8 compatible image (multi-arch: runs on arm64 and amd64)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l database -d 'Database to create' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l storage-size -d 'Size of the data and backup volumes' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l storage-class -d 'StorageClass for a dynamically provisioned data volume (default: a hostPath PV)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l replicas -d 'Servers: one primary and N-1 semi-synchronous replicas (1 to 9)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l password -d 'The root password (stays in your shell history; prefer --password-stdin)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l restore-from -d 'Start from this MySQLBackup (of any instance in the namespace)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l restore-from-time -d 'Start as the instance --source was at TIME (RFC 3339): its newest backup before TIME, then its archived binary logs up to TIME (point-in-time recovery). The copy takes the source\'s database and bucket' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l source -d 'The instance, in this namespace, whose backups and binary logs --restore-from-time uses' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s o -l output -d 'Output format for --dry-run' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l password-stdin -d 'Read the root password from standard input'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l generate-password -d 'Generate a random root password (printed with the command to read it back)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -l dry-run -d 'Print what would be created; change nothing'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand create" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s o -l output -d 'Output format: a table for people, or JSON/YAML with a stable schema' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s A -l all-namespaces -d 'List instances in all namespaces'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s w -l watch -d 'Print again whenever the instance, its backups or its Events change, until Ctrl-C (with -o json, one document a line)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand status" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -s o -l output -d 'Output format of --list and --dry-run' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l list -d 'List the instance\'s backups instead of starting one'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -l dry-run -d 'Print the MySQLBackup that would be created; change nothing'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and not __fish_seen_subcommand_from verify" -a "verify" -d 'Load a backup into a throwaway server (the instance\'s image, an emptyDir datadir) and report its tables and rows; the result goes on the backup\'s status'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -s o -l output -d 'Output format of the result' -r -f -a "table\t''
json\t''
yaml\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand backup; and __fish_seen_subcommand_from verify" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l from -d 'The MySQLBackup to restore (default: the instance\'s latest successful backup)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l to-time -d 'Restore to this second (RFC 3339, `2026-12-04T10:14:59Z`): the newest backup before it, then the archived binary logs up to it (point-in-time recovery; `spec.backup.pointInTime`). Inside the window `kubectl mysql status` shows' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l to-gtid -d 'Restore up to the transaction GTID and leave it out (`0-1-57` on MariaDB, `UUID:57` on MySQL): the one that dropped a table, say. The newest backup without it, then the archived binary logs up to it' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -s y -l yes -d 'Do not ask for confirmation (required when stdin is not a terminal)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restore" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l to -d 'The member to promote: its number (1) or Deployment (NAME-member-1). Default: the streaming replica with the least lag' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l wait -d 'Wait until it is done (the default); --wait=false returns at once' -r -f -a "true\t''
false\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l timeout -d 'How long to wait before giving up, e.g. 90s, 5m, 1h' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand switchover" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -l member -d 'A member of a replicated instance (its number, or its Deployment): default the primary' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand connect" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand pause" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand resume" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand restart" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l concurrency -d 'How many objects may be reconciled at once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l health-addr -d 'Serve /healthz on this address (e.g. 127.0.0.1:8081)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l metrics-addr -d 'Serve Prometheus metrics on /metrics at this address' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l lease-namespace -d 'Namespace of the Lease (default: $POD_NAMESPACE, then the context\'s namespace)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l lease-name -d 'Name of the Lease' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l lease-duration -d 'How long a holder that stopped renewing keeps the Lease (failover time)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l operator-image -d 'The image of this tool that the Jobs moving dumps to and from object storage run (install-operator passes its own). Default: kubectl-mysql:VERSION' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -s A -l all-namespaces -d 'Watch all namespaces (the default when no -n is given; -n, repeatable, watches only those)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -l leader-elect -d 'Reconcile only while holding a Lease, so that of several replicas one works'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand run-operator" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand completion" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand version" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l endpoint -d 'The S3 endpoint URL (empty for AWS)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l bucket -d 'The bucket' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l region -d 'The bucket\'s region' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l access-key-id-from-env -d 'The access key id' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l secret-access-key-from-env -d 'The secret access key' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -l path-style -d 'Path-style URLs (ENDPOINT/BUCKET/KEY), as most self-hosted servers need'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -f -a "upload" -d 'Compress, checksum and upload a complete dump as it streams in; print what was stored as JSON'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -f -a "download" -d 'Download a dump, verify its checksum and decompress it to a file'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -f -a "list" -d 'List the dumps under a folder of keys'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -f -a "archive-binlogs" -d 'Archive the server\'s binary logs continuously (the sidecar of point-in-time recovery): every interval, close the current file, upload the closed ones, purge what the bucket confirmed'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -f -a "fetch-binlogs" -d 'Download and verify the archived binary logs a restore to a time replays, from a dump\'s position to the target, and list them in DIR/order'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and not __fish_seen_subcommand_from upload download list archive-binlogs fetch-binlogs delete" -f -a "delete" -d 'Delete a dump and its checksum'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l file -d 'The dump mysqldump writes: a file, or a pipe it writes into' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l dump-errors -d 'Where the dump leaves its reason when it fails half-way: the upload\'s refusal quotes its last line' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l done-mark -d 'The file the dumping side writes (with the server\'s version) once its tool succeeded: a physical backup\'s stream has no last line that says so' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l key -d 'The object key' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l report -d 'Also write the JSON here (the container\'s termination log)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l timeline -d 'The server\'s timeline (its incarnation): with the binary log position the dump records, it goes in the report for point-in-time recovery' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l pack-directory -d 'The clone\'s directory on the data volume: packed into `--file` (a pipe), then removed' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l version-file -d 'The server\'s version, which the Job wrote once the clone succeeded' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from upload" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l key -d 'The object key' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l to -d 'Where the dump goes; it appears only once verified' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -l compressed -d 'Keep the dump as stored (compressed), checked to decode to a whole dump: `decompress-dump` streams it into the server'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from download" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -l prefix -d 'The folder (whole path segments: `backups/shop/db`)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l instance-prefix -d 'The instance\'s folder of keys (`PREFIX/NAMESPACE/INSTANCE/`)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l timeline -d 'The server\'s incarnation, which its files are numbered within' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l datadir -d 'Where the server writes its binary logs' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l interval -d 'How often the current file is closed and archived (`60s`, `5m`)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l host -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l port -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l socket -d 'The server\'s socket (a directory shared with its container): used instead of host and port, so that `require_secure_transport` needs no TLS here' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l password-file -d 'The root password, as a file (the credentials Secret\'s `password`)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from archive-binlogs" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l instance-prefix -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l timeline -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l from-file -d 'The binary log the dump\'s position is in' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l until -d 'The time to restore to (RFC 3339, `2026-12-04T10:14:59Z`), included' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l before-gtid -d 'The transaction to stop before (left out, with all after it)' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l to -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from fetch-binlogs" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -l key -d 'The object key' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand object-store; and __fish_seen_subcommand_from delete" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l file -d 'The verified, compressed dump (zstd or gzip, told by its first bytes)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l into -d 'The pipe the server\'s client reads' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l done -d 'Written once the whole dump is in the pipe, before the pipe closes' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand decompress-dump" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -l file -d 'The dump, as the record names it (`/backup/NAME.sql`)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -l under -d 'The folder the backup volume is mounted at' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand remove-dump" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l file -d 'The pipe the dumping side writes into' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l dump-errors -d 'Where the dumping side leaves its reason when it fails half-way' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l done-mark -d 'The file the dumping side writes (with the server\'s version) once its tool succeeded, before the pipe closes' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l to -d 'The dump\'s final path on the backup volume; its name says the compression' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l report -d 'Also write the JSON report here (the container\'s termination log)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l pack-directory -d 'The clone\'s directory on the data volume: packed into `--file` (a pipe), then removed' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l version-file -d 'The server\'s version, which the Job wrote once the clone succeeded' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand store-dump" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -l from -d 'The checked, compressed copy (`.clone.tar.zst`)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -l to -d 'The directory it is unpacked into; what an earlier run left there goes first' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand unpack-copy" -s V -l version -d 'Print version'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -s n -l namespace -d 'Namespace (default: the context\'s namespace, then `default`); run-operator takes it more than once' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -l log-format -d 'Log format on stderr' -r -f -a "text\t''
json\t''"
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -l templates -d 'Directory whose *.tera files replace the embedded templates of the same name' -r -F
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -s v -l verbose -d 'More log output (-v debug, -vv trace)'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -s q -l quiet -d 'Only errors'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -s h -l help -d 'Print help'
complete -c kubectl-mysql -n "__fish_kubectl_mysql_using_subcommand __complete" -s V -l version -d 'Print version'
