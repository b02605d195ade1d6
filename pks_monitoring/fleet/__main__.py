import sys

from pks_monitoring.fleet.cli import main

sys.exit(main())
