"""`cwsync simulate marketplace`: the marketplace simulator in the foreground."""
from __future__ import annotations

import argparse

from cwsync_local.simulators.common import StateFile, add_common_arguments, faults_from_arguments, serve_forever
from cwsync_local.simulators.marketplace import DEFAULT_CREDENTIALS, build_app
from cwsync_local.simulators.marketplace.auth import DEFAULT_TOKEN_TTL

DEFAULT_PORT = 8071


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, default_port=DEFAULT_PORT)
    auth = parser.add_argument_group("credentials the simulator accepts")
    auth.add_argument("--username", default=DEFAULT_CREDENTIALS["username"], help="API user (default: %(default)s)")
    auth.add_argument("--password", default=DEFAULT_CREDENTIALS["password"], help="API password (default: %(default)s)")
    auth.add_argument("--subscription-key", default=DEFAULT_CREDENTIALS["subscriptionKey"],
                      help="X-Subscription-Key value (default: %(default)s)")
    auth.add_argument("--marketplace", default=DEFAULT_CREDENTIALS["marketplace"],
                      help='marketplace code expected in POST /token {"marketplace": ...} (default: %(default)s)')
    auth.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL, metavar="SECONDS",
                      help="lifetime of issued tokens (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    if args.token_ttl < 1:
        raise SystemExit("--token-ttl must be at least 1 second")
    state = StateFile("marketplace", seed=args.seed, state=args.state)
    credentials = {"username": args.username, "password": args.password,
                   "subscriptionKey": args.subscription_key, "marketplace": args.marketplace}
    try:
        app, _, _ = build_app(state, faults=faults_from_arguments(args), request_log=args.request_log,
                              credentials=credentials, token_ttl=args.token_ttl)
    except ValueError as error:
        raise SystemExit(f"marketplace data is not usable: {error}") from None
    serve_forever("marketplace", app, state, host=args.host, port=args.port)
    return 0
