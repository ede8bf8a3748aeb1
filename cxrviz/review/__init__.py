"""Reviews: the review record and the form's rules, the store (the only module that speaks SQL),
its migrations, export and import, agreement between reviewers, and triage queues.

May import: `cxrviz.data`, `cxrviz.model` and the top-level modules; SQLAlchemy only in `store`
(and `migrations/`). Never Streamlit.
"""
