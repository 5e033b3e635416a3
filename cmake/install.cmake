# Install rules and the Debian package (issue 8). The binary's own rule lives in daemon/CMakeLists.txt.
# Configure with -DCMAKE_INSTALL_PREFIX=/usr for a system install: GNUInstallDirs then puts the
# config under /etc (CMAKE_INSTALL_FULL_SYSCONFDIR) rather than /usr/etc.
include(GNUInstallDirs)

set(KENTONGAN_DOC_DIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/kentongan")
set(KENTONGAN_CONFIG_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/kentongan")

# systemd: unit, user and directories. Debian 12 reads /usr/lib/systemd/{system,sysusers.d,tmpfiles.d}.
install(FILES systemd/kentongan.service DESTINATION lib/systemd/system)
install(FILES systemd/kentongan.sysusers DESTINATION lib/sysusers.d RENAME kentongan.conf)
install(FILES systemd/kentongan.tmpfiles DESTINATION lib/tmpfiles.d RENAME kentongan.conf)

# A starting config for a new village; the admin copies it to kentongan.json. Never a live config:
# the package must not start anything or overwrite what the admin wrote.
install(FILES systemd/kentongan.json.example DESTINATION "${KENTONGAN_CONFIG_DIR}")
install(FILES examples/desa-ekasari/anggota.csv DESTINATION "${KENTONGAN_CONFIG_DIR}" RENAME anggota.csv.example)

# The demo village: `kentongan demo` looks for /usr/share/kentongan/examples/desa-ekasari.
install(FILES examples/desa-ekasari/kentongan.json examples/desa-ekasari/anggota.csv
        DESTINATION "${CMAKE_INSTALL_DATADIR}/kentongan/examples/desa-ekasari")

install(FILES docs/kentongan.8 DESTINATION "${CMAKE_INSTALL_MANDIR}/man8")
install(FILES README.md docs/admin-guide.md docs/operations.md docs/config.md docs/architecture.md
        DESTINATION "${KENTONGAN_DOC_DIR}")
install(FILES docs/id/panduan-admin.md DESTINATION "${KENTONGAN_DOC_DIR}/id")
install(FILES systemd/modem.conf DESTINATION "${KENTONGAN_DOC_DIR}/examples")

# Bash completion, printed by the installed binary itself so that it always matches its commands.
set(KENTONGAN_COMPLETION_DIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions")
install(CODE "
  set(_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${KENTONGAN_COMPLETION_DIR}\")
  execute_process(COMMAND \"$<TARGET_FILE:kentongan>\" completion bash
                  OUTPUT_VARIABLE _script RESULT_VARIABLE _rc ERROR_QUIET)
  if(_rc EQUAL 0 AND _script MATCHES \"complete \")
    file(MAKE_DIRECTORY \"\${_dir}\")
    file(WRITE \"\${_dir}/kentongan\" \"\${_script}\")
    message(STATUS \"Installing: \${_dir}/kentongan\")
  else()
    message(WARNING \"kentongan completion bash failed; no bash completion installed\")
  endif()")

# ----- CPack: a .deb for Debian 12 -----------------------------------------------------------------
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "kentongan")
set(CPACK_PACKAGE_VENDOR "Kentongan")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "Kentongan maintainers <kentongan@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "village announcements by SMS and WhatsApp, and residents' replies")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_PACKAGE_NAME "kentongan")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# The long description; CPack puts CPACK_PACKAGE_DESCRIPTION_SUMMARY before it as the synopsis.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Kentongan is a daemon through which a village information group (KIM) sends
announcements to residents' phones by SMS (SMPP) and WhatsApp, and through which
residents text back: reports become tracked aspirations with tickets that officers
answer from their own phones. It runs under systemd with a hardened unit; the
package installs the unit but neither enables nor starts it.")
find_program(KENTONGAN_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(KENTONGAN_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247)")
else()
  # The Debian 12 runtime libraries of the dependencies in cmake/dependencies.cmake.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd (>= 247), libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, \
libsqlite3-0, libsqlitecpp0, libspdlog1.10, libfmt9, libssl3, libcurl4, libsystemd0, \
libphonenumber8, libicu72, libboost-system1.74.0")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${CMAKE_CURRENT_LIST_DIR}/deb/postinst;${CMAKE_CURRENT_LIST_DIR}/deb/prerm;${CMAKE_CURRENT_LIST_DIR}/deb/postrm"
    # The example config: dpkg asks before replacing one the admin edited. Paths must match
    # CMAKE_INSTALL_FULL_SYSCONFDIR with the /usr prefix that scripts/package configures.
    "${CMAKE_CURRENT_LIST_DIR}/deb/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
