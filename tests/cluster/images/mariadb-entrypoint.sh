#!/bin/sh
# Entrypoint of the local MariaDB image, after the official mysql image's: on an empty
# datadir it creates the system tables, sets the root password from MYSQL_ROOT_PASSWORD
# (for root@localhost and root@%), creates MYSQL_DATABASE, then runs the server in the
# foreground in place of this script. Secrets stay in the environment and in SQL sent
# over stdin, never in argv.
set -eu

datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock

if [ "${1:-}" != "mariadbd" ] && [ "${1:-}" != "mysqld" ]; then
  exec "$@"
fi
shift

# As root (the image's default), the server is handed to the mysql user; a pod that
# runs as that user already (Pod Security "restricted") has nothing to hand over.
as_mysql=""
if [ "$(id -u)" = 0 ]; then
  as_mysql=--user=mysql
  mkdir -p /run/mysqld "$datadir"
  chown mysql:mysql /run/mysqld
  # The volume's subPath is created by the kubelet as root.
  find "$datadir" -maxdepth 0 \! -user mysql -exec chown mysql:mysql {} +
fi

sql_string() {
  printf "%s" "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"
}
sql_name() {
  printf "%s" "$1" | sed 's/`/``/g'
}

if [ ! -d "$datadir/mysql" ]; then
  if [ -z "${MYSQL_ROOT_PASSWORD:-}" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ]; then
    echo "entrypoint: the datadir is empty and MYSQL_ROOT_PASSWORD is not set" >&2
    exit 1
  fi
  echo "entrypoint: initialising an empty datadir"
  mariadb-install-db $as_mysql --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=normal >/dev/null
  mariadbd $as_mysql --datadir="$datadir" --skip-networking --socket="$socket" &
  server=$!
  waited=0
  until mariadb-admin --socket="$socket" --user=root ping >/dev/null 2>&1; do
    if [ "$waited" -ge 60 ]; then
      echo "entrypoint: the temporary server did not start" >&2
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  password=$(sql_string "${MYSQL_ROOT_PASSWORD:-}")
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    # Only root@localhost and root@% remain, both with the password: the install also
    # made password-less root@127.0.0.1, root@::1 and root@<hostname>.
    echo "DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host NOT IN ('localhost', '%'));"
    echo "DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost', '%');"
    echo "FLUSH PRIVILEGES;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$password';"
    echo "CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '$password';"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MYSQL_DATABASE:-}" ]; then
      echo "CREATE DATABASE IF NOT EXISTS \`$(sql_name "$MYSQL_DATABASE")\`;"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket="$socket" --user=root
  MYSQL_PWD="${MYSQL_ROOT_PASSWORD:-}" mariadb-admin --socket="$socket" --user=root shutdown
  wait "$server" || true
  echo "entrypoint: initialised"
fi

exec mariadbd $as_mysql --datadir="$datadir" --socket="$socket" \
  --bind-address=0.0.0.0 --port=3306 --skip-name-resolve "$@"
