"""The command line's choices are the library's vocabularies, offered without importing it."""

from __future__ import annotations

import subprocess
import sys

from bigsmall import constants


def test_vocabularies_name_what_the_library_implements() -> None:
    from bigsmall.models.layers import make_shift
    from bigsmall.models.official import TRIO_INIT_MAPS
    from bigsmall.models.profile import CONVENTIONS
    from bigsmall.predict import METHODS

    assert constants.PREDICT_METHODS == METHODS
    assert tuple(CONVENTIONS) == constants.MAC_CONVENTIONS
    assert tuple(TRIO_INIT_MAPS) == constants.TRIO_SMALL_SOURCES
    for kind in constants.SHIFTS:
        make_shift(kind, 3)


def test_parser_offers_them_and_imports_no_library() -> None:
    code = (
        "import sys\n"
        "from bigsmall.cli import build_parser\n"
        "parser = build_parser()\n"
        "heavy = {'torch', 'numpy', 'cv2'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "sub = next(a for a in parser._actions if a.dest == 'command').choices\n"
        "opts = {o: a.choices for a in sub['preprocess']._actions for o in a.option_strings}\n"
        "assert opts['--big-frames'] == ('first', 'all'), opts\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
