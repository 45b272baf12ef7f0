"""The session log of one command (bayesbg.logs.session_log)."""

from __future__ import annotations

import logging

from bayesbg.logs import session_log, session_log_text


def test_session_log_keeps_bayesbg_debug_and_library_info_not_library_debug():
    # (cmdstanpy's own logger does not propagate; library_chatter_to_log routes it)
    with session_log() as path:
        logging.getLogger("bayesbg.cosi.fit").debug("bayesbg detail")
        logging.getLogger("matplotlib.font_manager").debug("findfont: score 10.05")
        logging.getLogger("some_library.module").info("library progress line")
        logging.getLogger("some_library.module").debug("library detail")
        text = session_log_text()
    assert text is not None
    assert "bayesbg detail" in text
    assert "library progress line" in text
    assert "findfont" not in text and "library detail" not in text
    assert not path.exists()  # removed when the command ends
    assert session_log_text() is None
