"""Letters (告知书, docs/legal.md): templates as data (``defaults``), the facts a letter states
(``facts``) and its layout as PDF and DOCX (``render``). Drafting, numbering and serving are
services (``requests_app.services.letters``)."""
