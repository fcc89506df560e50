"""Email over SMTP: the client (``smtp.py``), MIME building (``mime.py``) and the outbox sender
(``sender.py``). It carries neutral :class:`~tocsin.domain.mail.MailMessage` values, whoever
wrote them (status-page subscribers today)."""
