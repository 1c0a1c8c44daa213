from latentatlas.cli.main import main

raise SystemExit(main())
