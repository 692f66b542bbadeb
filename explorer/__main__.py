"""``python -m explorer`` runs the regexplore CLI."""

from explorer.cli import run

if __name__ == "__main__":
    run()
