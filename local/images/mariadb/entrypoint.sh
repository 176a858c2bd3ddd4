#!/bin/bash
# Starts MariaDB on 127.0.0.1:$MARIADB_PORT (host networking). On first start with an empty
# data directory it initialises the server, sets the root password, creates the application
# database and a least-privilege application user, and optionally loads a dump
# ($MARIADB_RESTORE_FILE, used to restore a snapshot into a scratch instance).
# Passwords arrive only as files (*_FILE) so they never appear in `docker inspect`.
set -euo pipefail

port="${MARIADB_PORT:-13306}"
datadir=/var/lib/mysql
socket=/run/mysqld/mysqld.sock

die() { echo "stepdeploy-mariadb: $*" >&2; exit 1; }
read_secret() { [[ -r "$1" ]] || die "secret file $1 is not readable"; tr -d '\n' <"$1"; }
# SQL string literal: escape backslashes and single quotes.
sql_quote() { local s=${1//\\/\\\\}; printf "'%s'" "${s//\'/\'\'}"; }

mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld "$datadir"

if [[ ! -d "$datadir/mysql" ]]; then
  : "${MARIADB_DATABASE:?MARIADB_DATABASE is required on first start}"
  : "${MARIADB_USER:?MARIADB_USER is required on first start}"
  : "${MARIADB_PASSWORD_FILE:?MARIADB_PASSWORD_FILE is required on first start}"
  : "${MARIADB_ROOT_PASSWORD_FILE:?MARIADB_ROOT_PASSWORD_FILE is required on first start}"
  [[ "$MARIADB_DATABASE" =~ ^[A-Za-z0-9_]+$ ]] || die "MARIADB_DATABASE must match [A-Za-z0-9_]+"
  [[ "$MARIADB_USER" =~ ^[A-Za-z0-9_]+$ ]] || die "MARIADB_USER must match [A-Za-z0-9_]+"
  app_password=$(read_secret "$MARIADB_PASSWORD_FILE")
  root_password=$(read_secret "$MARIADB_ROOT_PASSWORD_FILE")

  echo "stepdeploy-mariadb: initialising data directory"
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=socket >/dev/null

  # Bootstrap without networking so nothing can connect before the grants are in place.
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$socket" &
  pid=$!
  for _ in $(seq 1 60); do
    mariadb-admin --socket="$socket" ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --socket="$socket" ping >/dev/null 2>&1 || die "bootstrap server did not start"

  # root keeps socket authentication (used by `docker exec` for snapshots, no password on any
  # command line) and also gets a password for TCP administration.
  mariadb --socket="$socket" <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD($(sql_quote "$root_password"));
CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '$MARIADB_USER'@'127.0.0.1' IDENTIFIED BY $(sql_quote "$app_password");
CREATE USER '$MARIADB_USER'@'localhost' IDENTIFIED BY $(sql_quote "$app_password");
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES, LOCK TABLES ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'127.0.0.1';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, CREATE TEMPORARY TABLES, LOCK TABLES ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'localhost';
FLUSH PRIVILEGES;
SQL

  if [[ -n "${MARIADB_RESTORE_FILE:-}" ]]; then
    [[ -r "$MARIADB_RESTORE_FILE" ]] || die "restore file $MARIADB_RESTORE_FILE is not readable"
    echo "stepdeploy-mariadb: loading $MARIADB_RESTORE_FILE"
    mariadb --socket="$socket" "$MARIADB_DATABASE" <"$MARIADB_RESTORE_FILE"
  fi

  mariadb-admin --socket="$socket" shutdown
  wait "$pid" || true
  echo "stepdeploy-mariadb: initialised"
fi

exec mariadbd --user=mysql --datadir="$datadir" --socket="$socket" \
  --bind-address=127.0.0.1 --port="$port" \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
  --skip-name-resolve --innodb-buffer-pool-size=128M
