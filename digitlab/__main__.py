"""`python -m digitlab serve [streamlit flags]` and `python -m digitlab import PATH`.

`serve` serves the app with its model server warm, as `make run` does: the model server
(digitlab.model_server) starts first and loads TensorFlow and the default model, while this
process imports the libraries the pages use; Streamlit (its own command line, in this process)
starts serving once the server reads a stroke with the default model. So the health endpoint
answers when the app can do its job, and the first visitor waits for nothing. (The pages' own
modules are not imported ahead: their Streamlit caches must be made once Streamlit's runtime runs.)

`import` copies a Keras or ONNX digit model into the model folder with a card written by
measuring it (digitlab.import_cli).
"""

import argparse
import importlib
import sys
import time
from pathlib import Path

from digitlab import copy_store, import_cli

APP = Path(__file__).resolve().parent.parent / "app.py"
PRELOADED = (
    "altair",
    "pandas",
    "segno",
    "digitlab.classes",
    "digitlab.explain",
    "digitlab.feedback",
    "digitlab.jobs",
    "digitlab.preprocess",
    "digitlab.training_lock",
)


def serve(streamlit_flags):
    """Start the model server, import the pages' libraries, wait for a warm model, then `streamlit run app.py`."""
    from streamlit.web import cli

    from digitlab.model_server import RemoteClassifier, default_model_path, model_server, warm_up

    started = time.monotonic()
    model_server()
    for module in PRELOADED:
        importlib.import_module(module)
    warm_up(lambda: RemoteClassifier(default_model_path()))
    print(f"Digit Lab: the model server is warm after {time.monotonic() - started:.1f} s.", flush=True)
    return cli.main(["run", str(APP), *streamlit_flags], prog_name="streamlit")


def parser():
    """The command line: `serve` passes its flags on to Streamlit; `import` has its own."""
    main_parser = argparse.ArgumentParser(prog="python -m digitlab", description="Digit Lab's commands.")
    commands = main_parser.add_subparsers(dest="command", required=True, metavar="{serve,import,copy-store}")
    commands.add_parser("serve", help="serve the app (flags go to `streamlit run`, e.g. --server.port 8501)")
    import_cli.add_arguments(
        commands.add_parser("import", help="copy a .keras, .h5 or .onnx digit model into the model folder, measured")
    )
    copy_store.add_arguments(
        commands.add_parser("copy-store", help="copy the saved drawings and classes into another database")
    )
    return main_parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    main_parser = parser()
    args, extra = main_parser.parse_known_args(argv)
    if args.command == "serve":
        return serve(extra)
    if extra:
        main_parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return copy_store.run(args) if args.command == "copy-store" else import_cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
