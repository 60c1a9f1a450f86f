"""Loads a Synapse configuration the way Synapse starts, without starting it.

Usage: python synapse_check.py DIR

DIR holds homeserver.yaml (which names its signing key, log config and media store
paths inside DIR) and worker-*.yaml, one per worker. For the main process and for
each worker (`-c homeserver.yaml -c worker-X.yaml`, as the playbook's units run them)
this calls Synapse's own `HomeServerConfig.load_config` and then the app's
`create_homeserver`, which builds the homeserver object but neither connects nor
listens. That catches what the loader checks: unknown or ill-typed options Synapse
reads, cache factors, stream writers missing from instance_map, storage-provider
config (the provider's own parse_config), unknown worker_app. The main process also
gets its database engine and connection pool built (psycopg2, cp_min/cp_max; the pool
connects only once a reactor runs, which never happens here) and the libpq keywords of
its database args parsed, and the log config is applied with logging.config.

Every failure is printed with Synapse's message; the exit status is 1 if any.
"""

import glob
import logging.config
import os
import sys
import traceback

import yaml


def fail(failures, what, exc):
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    failures.append(f"{what}: {detail}")


def load(files):
    from synapse.config.homeserver import HomeServerConfig

    argv = []
    for f in files:
        argv += ["-c", f]
    return HomeServerConfig.load_config("synapse-planner check", argv)


def ensure_signing_key(path):
    if os.path.exists(path):
        return
    from signedjson.key import generate_signing_key, write_signing_keys

    with open(path, "w") as f:
        write_signing_keys(f, [generate_signing_key("planner")])


def check_database(config, failures):
    import psycopg2.extensions
    from twisted.internet import reactor

    from synapse.storage.database import make_pool
    from synapse.storage.engines import create_engine

    for db in config.database.databases:
        what = f"database {db.name}"
        try:
            if db.config["name"] != "psycopg2":
                raise ValueError(f"engine is {db.config['name']}, not psycopg2")
            engine = create_engine(db.config)
            args = {
                k: v for k, v in db.config.get("args", {}).items() if not k.startswith("cp_")
            }
            # libpq parses the keywords psycopg2 would connect with.
            psycopg2.extensions.parse_dsn(psycopg2.extensions.make_dsn(**args))
            pool = make_pool(
                reactor=reactor,
                db_config=db,
                engine=engine,
                server_name=config.server.server_name,
            )
            print(f"ok: {what} psycopg2 pool min={pool.min} max={pool.max}")
        except Exception as e:  # noqa: BLE001 - report every failure with its message
            fail(failures, what, e)


def main():
    workdir = sys.argv[1]
    hs_path = os.path.join(workdir, "homeserver.yaml")
    with open(hs_path) as f:
        raw = yaml.safe_load(f)
    ensure_signing_key(raw["signing_key_path"])
    failures = []

    try:
        with open(raw["log_config"]) as f:
            logging.config.dictConfig(yaml.safe_load(f))
        print("ok: log config")
        # Applied to check it; Synapse's start-up warnings would only be noise here.
        logging.disable(logging.WARNING)
    except Exception as e:  # noqa: BLE001
        fail(failures, "log config", e)

    import synapse.app.generic_worker as generic_worker
    import synapse.app.homeserver as homeserver

    try:
        config = load([hs_path])
        homeserver.create_homeserver(config)
        print("ok: main process")
        check_database(config, failures)
    except SystemExit as e:
        failures.append(f"main process: exit {e.code}")
    except Exception as e:  # noqa: BLE001
        fail(failures, "main process", e)

    workers = sorted(glob.glob(os.path.join(workdir, "worker-*.yaml")))
    for path in workers:
        what = os.path.basename(path)
        try:
            config = load([hs_path, path])
            try:
                hs = generic_worker.create_homeserver(config)
            except AssertionError as e:
                raise AssertionError(
                    f"worker_app {config.worker.worker_app!r} is not a Synapse worker app"
                ) from e
            print(f"ok: {what} ({config.worker.worker_name}, {type(hs).__name__})")
        except SystemExit as e:
            failures.append(f"{what}: exit {e.code}")
        except Exception as e:  # noqa: BLE001
            fail(failures, what, e)

    print(f"checked: main + {len(workers)} workers")
    for line in failures:
        print(f"FAILED {line}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
