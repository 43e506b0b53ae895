# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's input rules, private to it (not an API): `values` turns what a user set into the
normalised value every template renders (or refuses it, naming the variable); `writers` writes a value in
the syntax of the file it lands in (or refuses what that syntax cannot hold, naming the variable)."""
