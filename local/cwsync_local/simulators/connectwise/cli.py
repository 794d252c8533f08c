"""`cwsync simulate connectwise`: the ConnectWise Manage REST 3.0 simulator in the foreground."""
from __future__ import annotations

import argparse

from ..common import StateFile, add_common_arguments, faults_from_arguments, serve_forever
from . import CODEBASE, DEFAULT_CREDENTIALS, build_app

DEFAULT_PORT = 8102


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser, default_port=DEFAULT_PORT)
    credentials = parser.add_argument_group("API credentials the simulator accepts")
    credentials.add_argument("--company-id", default=DEFAULT_CREDENTIALS["companyId"],
                             help="company id (login company) (default: %(default)s)")
    credentials.add_argument("--public-key", default=DEFAULT_CREDENTIALS["publicKey"],
                             help="API member public key (default: %(default)s)")
    credentials.add_argument("--private-key", default=DEFAULT_CREDENTIALS["privateKey"],
                             help="API member private key (default: %(default)s)")
    credentials.add_argument("--client-id", default=DEFAULT_CREDENTIALS["clientId"],
                             help="integration clientId header value (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    state = StateFile("connectwise", seed=args.seed, state=args.state)
    credentials = {"companyId": args.company_id, "publicKey": args.public_key,
                   "privateKey": args.private_key, "clientId": args.client_id}
    app, _ = build_app(state, faults=faults_from_arguments(args), request_log=args.request_log,
                       credentials=credentials)
    print(f"ConnectWise API base: http://{args.host}:{args.port}/{CODEBASE}apis/3.0 "
          f"(company {args.company_id}; discovery at /login/companyinfo/{args.company_id})", flush=True)
    serve_forever("connectwise", app, state, host=args.host, port=args.port)
    return 0
