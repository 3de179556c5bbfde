"""config.yaml keys as form rows (label, field, the config model's message or the key's help).

Used whole by the Project view's settings tab and in part by the step views (Extract shows
numframes2pick, start and stop beside its button): one drawing of the form, one
:class:`~posering.gui.state.config_form.ConfigForm` behind each.
"""

from __future__ import annotations

import dearpygui.dearpygui as dpg

from posering.errors import ConfigError
from posering.gui import theme
from posering.gui.state.config_form import FIELDS_BY_KEY, FLAG, NAMES, ConfigForm


class ConfigFields:
    """Rows for some config keys; ``save()`` writes what changed (after the config model's checks)."""

    def __init__(self, app, tag: str, keys: list[str], field_width: int = 280, help_wrap: int = 640):
        self.app = app
        self.tag = tag
        self.fields = [FIELDS_BY_KEY[key] for key in keys]
        self.field_width = field_width
        self.help_wrap = help_wrap
        self.form: ConfigForm | None = None
        self.on_change = None  # called after each edit

    def item(self, key: str) -> str:
        return f"{self.tag}.field.{key}"

    def build(self, label_width: int = 190) -> None:
        with dpg.table(header_row=False, policy=dpg.mvTable_SizingFixedFit, borders_innerH=True):
            dpg.add_table_column(width_fixed=True, init_width_or_weight=label_width)
            dpg.add_table_column(width_fixed=True, init_width_or_weight=self.field_width + 10)
            dpg.add_table_column(width_stretch=True)
            for field in self.fields:
                with dpg.table_row():
                    label = dpg.add_text(field.label)
                    with dpg.tooltip(label):
                        dpg.add_text(f"{field.key}: {field.help}")
                    tag = self.item(field.key)
                    if field.kind == FLAG:
                        dpg.add_checkbox(tag=tag, user_data=field.key,
                                         callback=lambda s, a, u: self.edit(u, "true" if a else "false"))
                    elif field.choices:
                        dpg.add_combo(list(field.choices), tag=tag, width=self.field_width, user_data=field.key,
                                      callback=lambda s, a, u: self.edit(u, a))
                    else:
                        self.app.text_inputs.append(dpg.add_input_text(
                            tag=tag, width=self.field_width, multiline=field.kind == NAMES,
                            height=130 if field.kind == NAMES else 0, user_data=field.key,
                            callback=lambda s, a, u: self.edit(u, a)))
                    with dpg.group():
                        dpg.add_text(field.help, tag=f"{self.tag}.help.{field.key}", color=theme.DIM,
                                     wrap=self.help_wrap)
                        dpg.add_text("", tag=f"{self.tag}.error.{field.key}", color=theme.ERROR,
                                     wrap=self.help_wrap, show=False)

    def load(self, config) -> None:
        """Show ``config``'s values (discarding edits)."""
        self.form = ConfigForm(config) if config is not None else None
        if self.form is None:
            return
        for field in self.fields:
            text = self.form.texts[field.key]
            dpg.set_value(self.item(field.key), text == "true" if field.kind == FLAG else text)
            self._show_error(field.key)

    def edit(self, key: str, text: str) -> None:
        if self.form is None:
            return
        self.form.set(key, text)
        self._show_error(key)
        if self.on_change is not None:
            self.on_change()

    def _show_error(self, key: str) -> None:
        message = self.form.errors.get(key) if self.form else None
        dpg.configure_item(f"{self.tag}.error.{key}", show=bool(message))
        dpg.configure_item(f"{self.tag}.help.{key}", show=not message)
        dpg.set_value(f"{self.tag}.error.{key}", message or "")

    @property
    def changed(self) -> dict:
        return self.form.changed if self.form is not None else {}

    @property
    def errors(self) -> dict:
        return self.form.errors if self.form is not None else {}

    def revert(self) -> None:
        if self.form is not None:
            self.load(self.form.config)

    def save(self, extra: dict | None = None):
        """Write the changes; returns the saved ProjectConfig, or None (the reason in the status line)."""
        if self.form is None:
            return None
        if self.form.errors:
            key, message = next(iter(self.form.errors.items()))
            self.app.status(f"not saved: {message}", error=True)
            return None
        try:
            return self.form.save(extra)
        except ConfigError as exc:
            self.app.status(f"not saved: {exc}", error=True)
            return None
