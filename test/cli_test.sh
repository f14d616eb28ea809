#!/bin/sh
# placeholder until the CLI lands
exit 0
