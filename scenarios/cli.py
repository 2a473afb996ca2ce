"""The `icarflex` command line: the parser (in French, like the output) and the exit statuses.

Each command lives with its subject: guide and diff with the contract (`contracts/`),
serve with the fakes (`mocks/`), run, demo, check and verify with the scenarios
(`scenarios/commands.py`). Flags are those of DESIGN.md §3. Exit status of every
command: 0 green, 1 contract violations or drift, 2 setup or usage error (one line on
standard error); 130 on Ctrl-C; a reader that closes the pipe (`| head`) ends it quietly.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from icarflex.scenarios.proxy.command import HELP as PROXY_HELP
from icarflex.scenarios.proxy.command import add_arguments as add_proxy_arguments

from icarflex import __version__

DESCRIPTION = ("icarflex — simulateur de contrat de l'intégration VO OpenFlex ⇄ ICAR DMS. "
               "Statut de sortie : 0 conforme, 1 violation du contrat ou dérive, "
               "2 erreur d'installation ou d'usage (message d'une ligne).")
WORKFLOWS = Path(__file__).parent / "data" / "workflows"  # one file per workflow, named by its id


def workflow_help() -> str:
    names = ", ".join(sorted(path.stem for path in WORKFLOWS.glob("*.yaml")))
    return f"parcours : {names}, ou all (tous)"

# command -> "module:function"; imported on use so `icarflex guide` stays fast.
COMMANDS = {
    "guide": "icarflex.contracts.guide:cli",
    "diff": "icarflex.contracts.diff:cli",
    "serve": "icarflex.scenarios.commands:serve",
    "run": "icarflex.scenarios.commands:run",
    "demo": "icarflex.scenarios.demo:demo",
    "check": "icarflex.scenarios.commands:check",
    "verify": "icarflex.scenarios.commands:verify",
    "proxy": "icarflex.scenarios.proxy.command:cli",
}

# argparse's own words, in French (argparse looks them up through its module-level `_`).
FRENCH = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (parmi %(choices)s)",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "expected one argument": "une valeur attendue",
    "invalid %(type)s value: %(value)r": "valeur %(type)s invalide : %(value)r",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s (%(matches)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "not allowed with argument %s": "incompatible avec l'argument %s",
}


def _french(message: str) -> str:
    return FRENCH.get(message, message)


argparse._ = _french  # type: ignore[attr-defined]


def profile_arg(value: str) -> str:
    """A profile file, or the name of a shipped one (`locked-mileage`, `dms-master`, …)."""
    from icarflex.profiles import path_of

    return path_of(value)


def key_arg(value: str) -> tuple[str, str]:
    actor, sep, key = value.partition("=")
    if not sep or not actor or not key:
        raise argparse.ArgumentTypeError(f"attendu ACTEUR=CLÉ (ex. dms=ma-cle), pas {value!r}")
    return actor, key


def _parser(sub: argparse._SubParsersAction, name: str, text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=text, description=text, add_help=False)
    _help(parser)
    return parser


def _help(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-h", "--help", action="help", help="afficher cette aide et quitter")


def _targets(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--openflex-url", metavar="URL",
                        help="URL de base d'OpenFlex (défaut : les fakes, lancés ici)")
    parser.add_argument("--icar-url", metavar="URL",
                        help="URL de base d'ICAR (défaut : les fakes, lancés ici)")
    parser.add_argument("--profile", type=profile_arg, metavar="PROFIL",
                        help="profil attendu (fichier YAML ou nom d'un profil livré, ex. locked-mileage)")
    parser.add_argument("--admin-key", default="demo-admin-key", metavar="CLÉ",
                        help="clé admin des cibles (journal, concessionnaires de travail)")
    parser.add_argument("--mapping", metavar="FICHIER",
                        help="chemins et noms JSON de l'OpenFlex cible (défaut : ceux des fakes)")
    parser.add_argument("--key", type=key_arg, action="append", default=[], metavar="ACTEUR=CLÉ",
                        help="clé d'un acteur du concessionnaire testé (répétable ; défaut : clés de démo)")
    parser.add_argument("--reset", action="store_true",
                        help="remettre les cibles à zéro avant (efface TOUT : jamais par défaut)")
    parser.add_argument("--no-audit", action="store_true",
                        help="se passer de l'audit du journal (sinon un journal illisible est une erreur)")
    parser.add_argument("--seed", type=int, default=2025, metavar="GRAINE",
                        help="graine des données générées")
    parser.add_argument("--report", metavar="DOSSIER",
                        help="écrire le JUnit XML et le rapport HTML dans ce dossier")
    parser.add_argument("--pact", metavar="DOSSIER",
                        help="écrire un contrat Pact v4 des appels du connecteur ICAR à OpenFlex")
    parser.add_argument("--quiet", "-q", action="store_true", help="le résumé seulement")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="icarflex", description=DESCRIPTION, add_help=False)
    _help(parser)
    parser.add_argument("--version", action="version", version=f"icarflex {__version__}",
                        help="afficher la version et quitter")
    sub = parser.add_subparsers(dest="command", required=True, title="commandes", metavar="COMMANDE")

    guide = _parser(sub, "guide", "régénérer le guide d'interface (français) depuis le contrat")
    guide.add_argument("--profile", type=profile_arg, help="profil posé sur les défauts du guide")
    guide.add_argument("--format", choices=["md", "html"], default="md", help="format (md ou html)")
    guide.add_argument("--output", "-o", help="écrire dans ce fichier plutôt que sur la sortie standard")

    diff = _parser(sub, "diff", "comparer deux paramétrages ; statut 1 si une ligne casse un connecteur")
    diff.add_argument("profile_a", type=profile_arg, help="premier profil (fichier ou nom)")
    diff.add_argument("profile_b", type=profile_arg, help="second profil (fichier ou nom)")
    diff.add_argument("--format", choices=["text", "json"], default="text", help="format (text ou json)")

    serve = _parser(sub, "serve", "servir les deux fakes (OpenFlex 8081, ICAR 8082), une ligne par requête")
    serve.add_argument("--host", default="127.0.0.1", metavar="HÔTE",
                       help="adresse d'écoute (défaut 127.0.0.1)")
    serve.add_argument("--openflex-port", type=int, default=8081, metavar="PORT",
                       help="port du fake OpenFlex")
    serve.add_argument("--icar-port", type=int, default=8082, metavar="PORT", help="port du fake ICAR")
    serve.add_argument("--db", metavar="BASE",
                       help="fichier SQLite (défaut : dans le dossier de données de l'utilisateur) "
                       "ou base PostgreSQL postgresql://UTILISATEUR@HÔTE:PORT/BASE")
    serve.add_argument("--profile", type=profile_arg, metavar="PROFIL",
                       help="profil appliqué à chaque concessionnaire")
    serve.add_argument("--openflex-url", metavar="URL",
                       help="brancher le connecteur ICAR sur un autre OpenFlex")
    serve.add_argument("--dms-key", default="demo-dms-key", metavar="CLÉ",
                       help="clé du connecteur ICAR sur OpenFlex")
    serve.add_argument("--threads", type=int, default=8, metavar="N", help="fils de service par fake")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="processus de service (gunicorn), chacun servant les deux fakes sur la même base")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NOM",
                       help="un nom d'hôte (Host) auquel les fakes répondent en plus du loopback (répétable)")
    serve.add_argument("--quiet", "-q", action="store_true", help="pas de ligne par requête")

    run = _parser(sub, "run", "rejouer un parcours (ou all) et vérifier le contrat ; sans URL, contre des "
                              "fakes lancés ici")
    run.add_argument("workflow", metavar="PARCOURS", help=workflow_help())
    _targets(run)
    run.add_argument("--no-negative", action="store_true", help="sans les jumeaux négatifs")

    demo = _parser(sub, "demo", "démonstration : les deux fakes et leur tableau de bord, chaque parcours "
                                "joué et raconté, le rapport ; les fakes restent en ligne jusqu'à Ctrl-C")
    demo.add_argument("--pace", type=float, default=0.0, metavar="SECONDES",
                      help="pause après chaque étape racontée (défaut 0 : d'une traite)")
    demo.add_argument("--step", action="store_true", help="Entrée pour passer à l'étape suivante")
    demo.add_argument("--open", action="store_true", help="ouvrir le tableau de bord dans un navigateur")
    demo.add_argument("--exit", action="store_true", help="arrêter les fakes une fois le rapport écrit")
    demo.add_argument("--openflex-port", type=int, default=8081, help="port d'OpenFlex (occupé : un libre)")
    demo.add_argument("--icar-port", type=int, default=8082, help="port du fake ICAR (occupé : un libre)")
    demo.add_argument("--report", default="icarflex-report", help="dossier du rapport")
    demo.add_argument("--seed", type=int, default=2025, help="graine des données générées")
    demo.add_argument("--profile", type=profile_arg, metavar="PROFIL",
                      help="paramétrage du concessionnaire servi et rejoué (fichier ou nom, "
                           "ex. exit-in-openflex)")

    check = _parser(sub, "check", "auditer un journal enregistré (lignes JSON) au regard du contrat")
    check.add_argument("journal", metavar="JOURNAL",
                       help="fichier journal (lignes JSON), ou - pour l'entrée standard")
    check.add_argument("--profile", type=profile_arg, metavar="PROFIL",
                       help="le paramétrage sous lequel le trafic a eu lieu")
    check.add_argument("--format", choices=["text", "json"], default="text", help="format (text ou json)")

    verify = _parser(sub, "verify", "comme « run all » (parcours, jumeaux, dérive), mais contre les systèmes "
                                    "nommés seulement : --openflex-url et --icar-url obligatoires")
    _targets(verify)

    add_proxy_arguments(_parser(sub, "proxy", PROXY_HELP), profile_arg)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    module_name, function = COMMANDS[args.command].split(":")
    command = getattr(importlib.import_module(module_name), function)
    try:
        code = int(command(args) or 0)
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`icarflex check … | head`): no traceback, nothing more to write.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
