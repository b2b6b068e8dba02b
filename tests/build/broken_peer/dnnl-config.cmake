# A oneDNN whose CMake config stops configuration, as Debian's does when the OpenCL headers
# are missing (find_package(OpenCL REQUIRED)). The build.broken_peer test
# (tests/CMakeLists.txt) points dnnl_DIR here and expects the course to configure without
# the peer, saying why.
find_package(AttnNoSuchDependency REQUIRED)
