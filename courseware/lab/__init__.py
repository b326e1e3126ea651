"""The live lab: one LabSession (a paced producer_core.Simulation) per learner or room,
its WebSocket protocol and pages.

Public API for other apps (instructor rooms use exactly this; everything else, in
particular every ``_``-prefixed name, is the lab's own and may change):

* ``commands``: ``Command``, ``CommandError`` (``code``, ``message``, ``ref``),
  ``parse(text)`` (a browser message → a validated ``Command``), ``check_fault(args)``
  (a fault's fields checked as the ``fault`` command checks them).
* ``session``: ``LabSession(lab_id, preset=, seed=)`` with ``apply(cmd)``,
  ``full_frame()``, ``delta_frame()``, and the attributes ``sim``, ``pacer``, ``dirty``,
  ``paused``, ``seq``, ``preset_id``, ``seed``, ``overrides``.
* ``registry``: ``registry`` (``get``, ``claim``, ``adopt(lab_id, runner)``),
  ``frames_group(lab_id)``, ``control_group(lab_id)``, and ``LabRunner``, whose subclasses
  may override the hooks ``apply(cmd)`` (every command goes through it before its
  ``ack``), ``reply(channel, reply)`` (that ``ack`` or ``error``), ``publish(message)`` (one encoded frame to every viewer) and ``handle(message)``
  (a control-channel message; call ``super().handle``), and use ``send(channel, message)``,
  ``start()``, ``stop()``, ``session``, ``viewers``, ``layer``, ``lab_id``, ``stopped``,
  ``frame_cost_s`` (smoothed CPU of one frame) and ``frame_share`` (the share of the event
  loop frames may take before the frame period stretches).
* ``consumers``: ``lab_id_for(session_key, slot)``, ``session_exists(session)`` (async),
  ``TokenBucket``, the close codes ``CLOSE_UNAUTHORISED``/``CLOSE_BAD_REQUEST``.
* ``views``: ``lab_context(request, preset, slot)`` (what a page drawing a lab needs).
* ``pacing``: ``wall_ms()``; ``delta``: ``apply(state, op)`` (a client's side of a delta).
"""
