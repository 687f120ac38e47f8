"""`python -m metodist …` is the `metodist` command."""

from metodist.cli import app

if __name__ == "__main__":
    app()
