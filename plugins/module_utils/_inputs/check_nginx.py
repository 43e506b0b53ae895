# -*- coding: utf-8 -*-
# Copyright (c) flaskstack.deploy contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The input checks of the nginx role: its settings, pools and sites (module_utils/inputs.py)."""

from __future__ import annotations

import re

from ansible_collections.flaskstack.deploy.plugins.module_utils.addresses import UNSAFE as _UNSAFE
from ansible_collections.flaskstack.deploy.plugins.module_utils._inputs.rules import (
    Errors,
    _has,
    _MIME,
    _NAME,
    _SHA256,
    _items,
    _opt,
    absolute_path,
    account,
    at_least,
    directive,
    file_name,
    line,
    nginx_size,
    nginx_time,
    nginx_version,
    port,
    show,
    token,
)


def nginx_pool(e, path, pool):
    name = _opt(pool, "name")
    if name is not None:
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            e.add(path + ".name", "%s is not a usable upstream name: use letters, digits, '_', '.' and '-' only "
                                  "(no blanks)" % show(name))
    servers = _opt(pool, "servers")
    if "servers" in pool and isinstance(servers, list) and not servers:
        e.add(path + ".servers", "pool %s has no servers; nginx refuses an empty upstream block" % show(name))
    seen = {}
    for spath, server in _items(e, path + ".servers", servers):
        address = server.get("address")
        unix = isinstance(address, str) and address.startswith("unix:")
        if address is not None:
            if unix:
                if not address[5:].startswith("/") or _UNSAFE.search(address):
                    e.add(spath + ".address", "%s: a unix socket needs an absolute path (unix:/run/app.sock)"
                          % show(address))
            elif not isinstance(address, str) or not address or _UNSAFE.search(address) or "/" in address:
                e.add(spath + ".address", "%s is not a host name, IP address or unix:/path" % show(address))
        if not unix:
            if server.get("port") is None:
                e.add(spath + ".port", "is missing; a TCP server needs a port (1-65535)")
            else:
                port(e, spath + ".port", server["port"])
        if server.get("weight") is not None:
            at_least(e, spath + ".weight", server["weight"], 1, "a relative share of requests")
        if server.get("max_fails") is not None:
            at_least(e, spath + ".max_fails", server["max_fails"], 0)
        if server.get("fail_timeout") is not None:
            nginx_time(e, spath + ".fail_timeout", server["fail_timeout"], seconds=True)
        key = (address, None if unix else server.get("port"))
        if key in seen:
            e.add(spath, "%s is also %s; a pool lists each server once"
                  % (address if unix else "%s:%s" % key, seen[key]))
        seen.setdefault(key, spath)
    if _opt(pool, "keepalive") is not None:
        at_least(e, path + ".keepalive", pool["keepalive"], 0, "0 turns it off")
    for index, item in enumerate(_opt(pool, "extra_directives") or []):
        directive(e, "%s.extra_directives[%d]" % (path, index), item)


def nginx_site(e, path, site, pools, listen_ipv6=False):
    name = _opt(site, "name")
    if name is not None:
        file_name(e, path + ".name", name, "site name")
    names = _opt(site, "server_name")
    if "server_name" in site:
        listed = names if isinstance(names, list) else [names]
        if not listed:
            e.add(path + ".server_name", "is empty; give at least one name, such as www.example.com or _")
        for index, item in enumerate(listed):
            where = path + ".server_name" + ("[%d]" % index if isinstance(names, list) else "")
            token(e, where, item, "server name")
    for key in ("listen",):
        if _opt(site, key) is not None:
            port(e, "%s.%s" % (path, key), site[key])
    upstreams = []
    if _opt(site, "upstream") is not None:
        upstreams.append((path + ".upstream", site["upstream"]))
    for key in ("charset",):
        if _opt(site, key) is not None:
            token(e, "%s.%s" % (path, key), site[key], "charset")
    for key in ("access_log", "error_log"):
        if _opt(site, key) is not None:
            absolute_path(e, "%s.%s" % (path, key), site[key], allow=("off",) if key == "access_log" else ())
    if _opt(site, "client_max_body_size") is not None:
        nginx_size(e, path + ".client_max_body_size", site["client_max_body_size"])
    for spath, static in _items(e, path + ".static", _opt(site, "static")):
        location = static.get("location")
        if location is not None and (not isinstance(location, str) or not location.startswith("/")
                                     or _UNSAFE.search(location)):
            e.add(spath + ".location", "%s must be a URL prefix starting with / without blanks, such as /static/"
                  % show(location))
        alias = static.get("alias")
        if alias is not None and absolute_path(e, spath + ".alias", alias):
            if _UNSAFE.search(alias):
                token(e, spath + ".alias", alias, "directory")
            elif isinstance(location, str) and location.endswith("/") and not alias.endswith("/"):
                e.add(spath + ".alias", "%s must end with / like location %s" % (show(alias), show(location)))
        for key in ("expires", "open_file_cache"):
            value = static.get(key)
            if value not in (None, "") and (not isinstance(value, str) or re.search(r"[;{}#'\"\\\n]", value)):
                e.add("%s.%s" % (spath, key), "%s must hold no ; { } # quotes or line breaks" % show(value))
    for lpath, loc in _items(e, path + ".locations", _opt(site, "locations")):
        where = loc.get("path")
        if where is not None and (not isinstance(where, str) or not where or re.search(r"[\s;{}#'\"]", where)):
            e.add(lpath + ".path", "%s is not a usable location: no blanks or ; { } # quotes (set match for a "
                                   "regular expression, such as match: '~' and path: \\.php$)" % show(where))
        elif isinstance(where, str) and loc.get("match") not in ("~", "~*") and not where.startswith("/"):
            e.add(lpath + ".path", "%s must start with / (or set match: '~' for a regular expression)" % show(where))
        if loc.get("upstream") is not None:
            upstreams.append((lpath + ".upstream", loc["upstream"]))
        for index, item in enumerate(loc.get("extra_directives") or []):
            directive(e, "%s.extra_directives[%d]" % (lpath, index), item)
    tls = _opt(site, "tls")
    if isinstance(tls, dict):
        for key in ("certificate", "certificate_key"):
            if tls.get(key) is not None:
                absolute_path(e, "%s.tls.%s" % (path, key), tls[key])
        if tls.get("listen") is not None:
            port(e, path + ".tls.listen", tls["listen"])
        if tls.get("protocols") is not None:
            protocols = tls["protocols"]
            if not isinstance(protocols, str) or not re.fullmatch(r"(?:TLSv1(?:\.[0-3])?|SSLv[23])(?: +\S+)*",
                                                                  protocols.strip()) \
                    or _UNSAFE.sub(" ", protocols).split() != protocols.split():
                e.add(path + ".tls.protocols", "%s is not a list of protocols such as 'TLSv1.2 TLSv1.3'"
                      % show(protocols))
        if tls.get("ciphers") is not None:
            token(e, path + ".tls.ciphers", tls["ciphers"], "cipher list")
        if tls.get("hsts_max_age") is not None:
            at_least(e, path + ".tls.hsts_max_age", tls["hsts_max_age"], 0)
    for index, item in enumerate(_opt(site, "extra_directives") or []):
        directive(e, "%s.extra_directives[%d]" % (path, index), item)
    if pools is not None:
        for upath, pool in upstreams:
            if pool not in pools:
                e.add(upath, "%s is not a declared upstream pool (declared: %s); add it or fix the name"
                      % (show(pool), ", ".join(sorted(str(p) for p in pools)) or "none"))


def nginx_pools_and_sites(e, pools_var, pools, sites_var, sites, known_pools=()):
    """Pools and sites with the checks across them (unique names, sites' pools declared)."""
    names = {}
    for path, pool in _items(e, pools_var, pools):
        nginx_pool(e, path, pool)
        name = pool.get("name")
        if isinstance(name, str):
            if name in names or name in known_pools:
                e.add(path + ".name", "%s is declared twice%s; upstream names must be unique"
                      % (show(name), " (also %s)" % names[name] if name in names else " (it is the app pool's name)"))
            names.setdefault(name, path)
    declared = set(names) | set(known_pools)
    site_names = {}
    for path, site in _items(e, sites_var, sites):
        nginx_site(e, path, site, declared if pools is not None or known_pools else None)
        name = site.get("name")
        if isinstance(name, str):
            if name in site_names:
                e.add(path + ".name", "%s is also %s.name; site names must be unique (each is a file)"
                      % (show(name), site_names[name]))
            site_names.setdefault(name, path)


def check_nginx(values, known_checksums=None):
    e = Errors()
    v = values.get
    if _has(values, "nginx_apt_package"):
        token(e, "nginx_apt_package", v("nginx_apt_package"), "package name")
    if v("nginx_apt_version"):
        token(e, "nginx_apt_version", v("nginx_apt_version"), "package version")
    source = v("nginx_install_method") == "source"
    if _has(values, "nginx_version") and nginx_version(e, "nginx_version", v("nginx_version")) and source:
        if known_checksums is not None and v("nginx_version") not in known_checksums \
                and not v("nginx_source_checksum"):
            e.add("nginx_version", "%s is not in the role's table of known tarball checksums (%s); set "
                                   "nginx_source_checksum to the sha256 of nginx-%s.tar.gz to build it"
                  % (v("nginx_version"), ", ".join(sorted(known_checksums)), v("nginx_version")))
    if v("nginx_source_checksum") and not _SHA256.fullmatch(str(v("nginx_source_checksum"))):
        e.add("nginx_source_checksum", "is not a sha256 (64 hex digits)")
    if source and "nginx_source_url" in values and not v("nginx_source_tarball") and not v("nginx_source_url"):
        e.add("nginx_source_url", "is empty; set it or nginx_source_tarball")
    for name in ("nginx_source_prefix", "nginx_source_build_dir", "nginx_pid_file", "nginx_error_page_root"):
        if _has(values, name):
            absolute_path(e, name, v(name))
    if _has(values, "nginx_source_artifact_dir"):
        directory = v("nginx_source_artifact_dir")
        if not (isinstance(directory, str) and directory.startswith("~/")):
            absolute_path(e, "nginx_source_artifact_dir", directory)
    for index, module in enumerate(v("nginx_source_modules") or []):
        if not isinstance(module, str) or not re.fullmatch(r"[a-z0-9_]+", module):
            e.add("nginx_source_modules[%d]" % index, "%s is not a module name such as http_ssl_module (without "
                                                      "--with-)" % show(module))
    for index, arg in enumerate(v("nginx_source_configure_args") or []):
        line(e, "nginx_source_configure_args[%d]" % index, arg, "one ./configure argument")
    for name in ("nginx_user",):
        if _has(values, name):
            account(e, name, v(name))
    if _has(values, "nginx_worker_processes"):
        workers = v("nginx_worker_processes")
        if str(workers) != "auto":
            at_least(e, "nginx_worker_processes", workers, 1, "or auto")
    for name, minimum in (("nginx_worker_rlimit_nofile", 1), ("nginx_worker_connections", 1),
                          ("nginx_keepalive_timeout", 0), ("nginx_keepalive_requests", 0),
                          ("nginx_open_file_cache_min_uses", 1), ("nginx_next_upstream_tries", 0),
                          ("nginx_drain_timeout", 0), ("nginx_source_build_timeout", 1)):
        if _has(values, name):
            at_least(e, name, v(name), minimum)
    if _has(values, "nginx_error_log"):
        log = v("nginx_error_log")
        if not (isinstance(log, str) and (log == "stderr" or log.startswith("syslog:"))):
            absolute_path(e, "nginx_error_log", log, allow=("stderr",))
    if _has(values, "nginx_access_log"):
        log = v("nginx_access_log")
        if not (isinstance(log, str) and log.startswith("syslog:")):
            absolute_path(e, "nginx_access_log", log, allow=("off",))
    for name in ("nginx_main_extra_directives", "nginx_events_extra_directives", "nginx_http_extra_directives"):
        for index, item in enumerate(v(name) or []):
            directive(e, "%s[%d]" % (name, index), item)
    for name in ("nginx_client_header_buffer_size", "nginx_client_body_buffer_size", "nginx_client_max_body_size"):
        if _has(values, name):
            nginx_size(e, name, v(name))
    if _has(values, "nginx_large_client_header_buffers"):
        buffers = v("nginx_large_client_header_buffers")
        if not isinstance(buffers, str) or not re.fullmatch(r"[0-9]+ +[0-9]+[kKmM]?", buffers.strip()):
            e.add("nginx_large_client_header_buffers", "%s must be a count and a size, such as '4 8k'" % show(buffers))
    if _has(values, "nginx_open_file_cache"):
        cache = v("nginx_open_file_cache")
        if cache not in ("", "off") and (not isinstance(cache, str)
                                         or not re.fullmatch(r"max=[0-9]+(?: +inactive=[0-9]+[a-zA-Z]*)?",
                                                             cache.strip())):
            e.add("nginx_open_file_cache", "%s must be empty, off, or such as 'max=10000 inactive=30s'" % show(cache))
    for name in ("nginx_open_file_cache_valid", "nginx_proxy_connect_timeout", "nginx_proxy_read_timeout"):
        if _has(values, name):
            nginx_time(e, name, v(name), seconds=name == "nginx_open_file_cache_valid")
    for index, item in enumerate(v("nginx_gzip_types") or []):
        if not isinstance(item, str) or not _MIME.fullmatch(item):
            e.add("nginx_gzip_types[%d]" % index, "%s is not a MIME type such as text/css" % show(item))
    for name in ("nginx_next_upstream", "nginx_uwsgi_next_upstream"):
        if _has(values, name):
            value = v(name)
            if not isinstance(value, str) or not value.strip() or _UNSAFE.sub(" ", value).split() != value.split():
                e.add(name, "%s must be words such as 'error timeout http_503' (no ; { } # quotes)" % show(value))
    if "nginx_upstreams" in values or "nginx_sites" in values:
        nginx_pools_and_sites(e, "nginx_upstreams", v("nginx_upstreams") or [], "nginx_sites",
                              v("nginx_sites") or [])
    return e
