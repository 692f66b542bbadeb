"""``python -m explorer`` runs the regexplore CLI."""

from explorer.cli import main

if __name__ == "__main__":
    main()
