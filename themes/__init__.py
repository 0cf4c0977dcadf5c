"""deskline's themes: colours live here and in ``deskline.tcss`` only.

App-specific colours are Textual theme variables (``$call-ringing`` ...), so
widgets never name a colour literally.  The built-in ``ansi-dark`` and
``ansi-light`` themes stay available for terminals with few colours.
"""

from __future__ import annotations

from pathlib import Path

STYLESHEET = Path(__file__).with_name("deskline.tcss")

# defaults for the app-specific variables; every theme may override them
APP_VARIABLES = {
    "call-ringing": "ansi_bright_yellow",
    "call-answered": "ansi_bright_green",
    "call-missed": "ansi_bright_red",
    "ticket-open": "ansi_bright_cyan",
}
# on light themes (ansi-light ...) the bright ANSI colours are hard to read on white: the normal ones
APP_VARIABLES_LIGHT = {
    "call-ringing": "ansi_yellow",
    "call-answered": "ansi_green",
    "call-missed": "ansi_red",
    "ticket-open": "ansi_blue",
}


def theme_style(app, variable: str):
    """A Rich style in the colour of theme variable ``$variable`` (empty style if the theme has none).

    Theme values may be Textual-only names such as ``ansi_bright_red`` (the defaults above, used
    by ``ansi-dark``/``ansi-light``), which Rich cannot parse, so they go through Textual's Color.
    """
    from rich.style import Style
    from textual.color import Color, ColorParseError

    value = app.theme_variables.get(variable, "") if variable else ""
    if not value:
        return Style()
    try:
        return Style(color=Color.parse(value).rich_color)
    except ColorParseError:
        return Style()


def deskline_themes():
    """Return deskline's own Theme objects (imports Textual, so call lazily)."""
    from textual.theme import Theme

    return [
        Theme(
            name="deskline-dark",
            primary="#4EA1D3",
            secondary="#8C7AE6",
            accent="#F5A623",
            warning="#F5A623",
            error="#E5534B",
            success="#57AB5A",
            background="#12161C",
            surface="#1A2029",
            panel="#222B36",
            dark=True,
            variables={
                "call-ringing": "#F5A623",
                "call-answered": "#57AB5A",
                "call-missed": "#E5534B",
                "ticket-open": "#4EA1D3",
            },
        ),
        Theme(
            name="deskline-light",
            primary="#1F6FB2",
            secondary="#6B4FBB",
            accent="#B26B00",
            warning="#B26B00",
            error="#C93C37",
            success="#2F7D32",
            background="#F7F8FA",
            surface="#FFFFFF",
            panel="#E9EDF2",
            dark=False,
            variables={
                "call-ringing": "#B26B00",
                "call-answered": "#2F7D32",
                "call-missed": "#C93C37",
                "ticket-open": "#1F6FB2",
            },
        ),
    ]
