{
  "targets": [
    {
      "target_name": "banger_dns_udp",
      "sources": ["dns_udp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "libraries": ["-lpthread"]
    }
  ]
}
