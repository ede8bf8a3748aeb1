"""`python -m cxrviz COMMAND`: train, evaluate, publish, predict, localize, export, import."""

from cxrviz.cli import main

raise SystemExit(main())
