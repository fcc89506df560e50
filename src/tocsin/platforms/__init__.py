"""Senders: one module per destination, each with ``build_<destination>_sender(settings, policy)``
returning the :class:`~tocsin.delivery.base.Sender`, or None when its credentials are not set."""
