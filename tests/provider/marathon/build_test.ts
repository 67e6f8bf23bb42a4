/**
 * `buildConfiguration()`: Traefik v2.11's `TestBuildConfiguration`
 * (`pkg/provider/marathon/config_test.go`) ported as data, then the §4 pipeline,
 * §10 linking scenarios and Pacer's deliberate differences.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { buildConfiguration } from "../../../src/provider/marathon/build.ts";
import type { MarathonOptionsInput } from "../../../src/provider/marathon/options.ts";
import {
  app,
  type ExpectedConfig,
  expectedConfig,
  httpRouter,
  ipAddrPerTask,
  lbService,
  localhostTask,
  NOW,
  streamService,
  TEST_DEFAULT_RULE,
  testRegistry,
} from "./_builders.ts";

const registry = testRegistry();

function build(apps: unknown[], options: MarathonOptionsInput = {}) {
  return buildConfiguration(apps, { defaultRule: TEST_DEFAULT_RULE, ...options }, {
    now: NOW,
    registry,
  });
}

interface Case {
  desc: string;
  apps: unknown[];
  constraints?: string;
  defaultRule?: string;
  expected: ExpectedConfig;
  defaultRuleRouters?: string[];
}

const USERS =
  "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/,test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0";

const traefikCases: Case[] = [
  {
    desc: "simple application",
    apps: [app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80] })] })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "filtered task",
    apps: [
      app({
        id: "/app",
        ports: [80],
        tasks: [localhostTask({ ports: [80], state: "TASK_STAGING" })],
      }),
    ],
    expected: {},
  },
  {
    desc: "multiple ports",
    apps: [app({ id: "/app", ports: [80, 81], tasks: [localhostTask({ ports: [80, 81] })] })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "with basic auth",
    apps: [app({
      id: "/app",
      ports: [80],
      labels: {
        "traefik.http.middlewares.Middleware1.basicauth.users": USERS,
        "traefik.http.routers.app.middlewares": "Middleware1",
      },
      tasks: [localhostTask({ ports: [80] })],
    })],
    expected: {
      http: {
        routers: {
          app: httpRouter("app", "Host(`app.marathon.localhost`)", {
            middlewares: ["Middleware1"],
          }),
        },
        middlewares: { Middleware1: { basicAuth: { users: USERS.split(",") } } },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "TCP with IP whitelist",
    apps: [app({
      id: "/app",
      ports: [80],
      labels: {
        "traefik.tcp.routers.Test.rule": "HostSNI(`foo.bar`)",
        "traefik.tcp.middlewares.Middleware1.ipwhitelist.sourcerange": "foobar, fiibar",
        "traefik.tcp.routers.Test.middlewares": "Middleware1",
      },
      tasks: [localhostTask({ ports: [80] })],
    })],
    expected: {
      tcp: {
        routers: {
          Test: {
            service: "app",
            rule: "HostSNI(`foo.bar`)",
            middlewares: ["Middleware1"],
            ruleSyntax: "v2",
          },
        },
        middlewares: { Middleware1: { ipWhiteList: { sourceRange: ["foobar", "fiibar"] } } },
        services: { app: streamService(["localhost:80"], { terminationDelay: 100 }) },
      },
    },
  },
  {
    desc: "2 applications in the same service",
    apps: [
      app({
        id: "/foo-v000",
        tasks: [localhostTask({ ports: [8080] })],
        labels: {
          "traefik.http.services.Service1.LoadBalancer.server.port": "index:0",
          "traefik.http.routers.Router1.rule": "Host(`app.marathon.localhost`)",
        },
      }),
      app({
        id: "/foo-v001",
        tasks: [localhostTask({ ports: [8081] })],
        labels: {
          "traefik.http.services.Service1.LoadBalancer.server.port": "index:0",
          "traefik.http.routers.Router1.rule": "Host(`app.marathon.localhost`)",
        },
      }),
    ],
    expected: {
      http: {
        routers: { Router1: httpRouter("Service1", "Host(`app.marathon.localhost`)") },
        services: { Service1: lbService(["http://localhost:8080", "http://localhost:8081"]) },
      },
    },
  },
  {
    desc: "2 applications with 2 tasks in the same service",
    apps: [
      app({
        id: "/foo-v000",
        tasks: [localhostTask({ ports: [8080] }), localhostTask({ ports: [8081] })],
        labels: {
          "traefik.http.services.Service1.LoadBalancer.server.port": "index:0",
          "traefik.http.routers.Router1.rule": "Host(`app.marathon.localhost`)",
        },
      }),
      app({
        id: "/foo-v001",
        tasks: [localhostTask({ ports: [8082] }), localhostTask({ ports: [8083] })],
        labels: {
          "traefik.http.services.Service1.LoadBalancer.server.port": "index:0",
          "traefik.http.routers.Router1.rule": "Host(`app.marathon.localhost`)",
        },
      }),
    ],
    expected: {
      http: {
        routers: { Router1: httpRouter("Service1", "Host(`app.marathon.localhost`)") },
        services: {
          Service1: lbService([
            "http://localhost:8080",
            "http://localhost:8081",
            "http://localhost:8082",
            "http://localhost:8083",
          ]),
        },
      },
    },
  },
  {
    desc: "2 applications",
    apps: [
      app({ id: "/foo", tasks: [localhostTask({ ports: [8080] })] }),
      app({ id: "/bar", tasks: [localhostTask({ ports: [8081] })] }),
    ],
    expected: {
      http: {
        routers: {
          foo: httpRouter("foo", "Host(`foo.marathon.localhost`)"),
          bar: httpRouter("bar", "Host(`bar.marathon.localhost`)"),
        },
        services: {
          foo: lbService(["http://localhost:8080"]),
          bar: lbService(["http://localhost:8081"]),
        },
      },
    },
    defaultRuleRouters: ["bar", "foo"],
  },
  {
    desc: "two tasks no labels",
    apps: [app({
      id: "/app",
      ports: [80],
      tasks: [localhostTask({ ports: [80] }), localhostTask({ ports: [81] })],
    })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80", "http://localhost:81"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "simple application with label on service",
    apps: [app({
      id: "/app",
      ports: [80],
      tasks: [localhostTask({ ports: [80] })],
      labels: { "traefik.http.services.Service1.loadbalancer.passhostheader": "true" },
    })],
    expected: {
      http: {
        routers: { app: httpRouter("Service1", "Host(`app.marathon.localhost`)") },
        services: { Service1: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with labels",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.http.services.Service1.loadbalancer.passhostheader": "true",
        "traefik.http.routers.Router1.rule": "Host(`foo.com`)",
        "traefik.http.routers.Router1.service": "Service1",
      },
    })],
    expected: {
      http: {
        routers: { Router1: httpRouter("Service1", "Host(`foo.com`)") },
        services: { Service1: lbService(["http://localhost:80"]) },
      },
    },
  },
  {
    desc: "one app with rule label",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: { "traefik.http.routers.Router1.rule": "Host(`foo.com`)" },
    })],
    expected: {
      http: {
        routers: { Router1: httpRouter("app", "Host(`foo.com`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
  },
  {
    desc: "one app with rule label and one service",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.http.routers.Router1.rule": "Host(`foo.com`)",
        "traefik.http.services.Service1.loadbalancer.passhostheader": "true",
      },
    })],
    expected: {
      http: {
        routers: { Router1: httpRouter("Service1", "Host(`foo.com`)") },
        services: { Service1: lbService(["http://localhost:80"]) },
      },
    },
  },
  {
    desc: "one app with rule label and two services",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.http.routers.Router1.rule": "Host(`foo.com`)",
        "traefik.http.services.Service1.loadbalancer.passhostheader": "true",
        "traefik.http.services.Service2.loadbalancer.passhostheader": "true",
      },
    })],
    expected: {
      http: {
        services: {
          Service1: lbService(["http://localhost:80"]),
          Service2: lbService(["http://localhost:80"]),
        },
      },
    },
  },
  {
    desc: "two apps with same service name and different passhostheader",
    apps: [
      app({
        id: "/app",
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: { "traefik.http.services.Service1.loadbalancer.passhostheader": "false" },
      }),
      app({
        id: "/app2",
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: { "traefik.http.services.Service1.loadbalancer.passhostheader": "true" },
      }),
    ],
    expected: {
      http: {
        routers: {
          app: httpRouter("Service1", "Host(`app.marathon.localhost`)"),
          app2: httpRouter("Service1", "Host(`app2.marathon.localhost`)"),
        },
      },
    },
    defaultRuleRouters: ["app", "app2"],
  },
  {
    desc: "two apps with two identical middleware",
    apps: ["/app", "/app2"].map((id) =>
      app({
        id,
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: { "traefik.http.middlewares.Middleware1.inflightreq.amount": "42" },
      })
    ),
    expected: {
      http: {
        routers: {
          app: httpRouter("app", "Host(`app.marathon.localhost`)"),
          app2: httpRouter("app2", "Host(`app2.marathon.localhost`)"),
        },
        middlewares: { Middleware1: { inFlightReq: { amount: 42 } } },
        services: {
          app: lbService(["http://localhost:80"]),
          app2: lbService(["http://localhost:80"]),
        },
      },
    },
    defaultRuleRouters: ["app", "app2"],
  },
  {
    desc: "two apps with two different middlewares",
    apps: [["/app", "42"], ["/app2", "41"]].map(([id, amount]) =>
      app({
        id: id!,
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: { "traefik.http.middlewares.Middleware1.inflightreq.amount": amount! },
      })
    ),
    expected: {
      http: {
        routers: {
          app: httpRouter("app", "Host(`app.marathon.localhost`)"),
          app2: httpRouter("app2", "Host(`app2.marathon.localhost`)"),
        },
        services: {
          app: lbService(["http://localhost:80"]),
          app2: lbService(["http://localhost:80"]),
        },
      },
    },
    defaultRuleRouters: ["app", "app2"],
  },
  {
    desc: "two apps with two different routers with same name",
    apps: [["/app", "Host(`foo.com`)"], ["/app2", "Host(`bar.com`)"]].map(([id, rule]) =>
      app({
        id: id!,
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: { "traefik.http.routers.Router1.rule": rule! },
      })
    ),
    expected: {
      http: {
        services: {
          app: lbService(["http://localhost:80"]),
          app2: lbService(["http://localhost:80"]),
        },
      },
    },
  },
  {
    desc: "two apps with two identical routers with same name",
    apps: ["/app", "/app2"].map((id) =>
      app({
        id,
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: {
          "traefik.http.routers.Router1.rule": "Host(`foo.com`)",
          "traefik.http.services.Service1.LoadBalancer.passhostheader": "true",
        },
      })
    ),
    expected: {
      http: {
        routers: { Router1: httpRouter("Service1", "Host(`foo.com`)") },
        services: { Service1: lbService(["http://localhost:80"]) },
      },
    },
  },
  {
    desc: "two apps with two identical routers with same name but different default services",
    apps: ["/app", "/app2"].map((id) =>
      app({
        id,
        ports: [80, 81],
        tasks: [localhostTask({ ports: [80, 81] })],
        labels: { "traefik.http.routers.Router1.rule": "Host(`foo.com`)" },
      })
    ),
    expected: {
      http: {
        services: {
          app: lbService(["http://localhost:80"]),
          app2: lbService(["http://localhost:80"]),
        },
      },
    },
  },
  {
    desc: "one app with wrong label",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: { "traefik.wrong.label": "tchouk" },
    })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with label port",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.http.services.Service1.LoadBalancer.server.scheme": "h2c",
        "traefik.http.services.Service1.LoadBalancer.server.port": "90",
      },
    })],
    expected: {
      http: {
        routers: { app: httpRouter("Service1", "Host(`app.marathon.localhost`)") },
        services: { Service1: lbService(["h2c://localhost:90"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with label port on two services",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.http.services.Service1.LoadBalancer.server.port": "",
        "traefik.http.services.Service2.LoadBalancer.server.port": "8080",
      },
    })],
    expected: {
      http: {
        services: {
          Service1: lbService(["http://localhost:80"]),
          Service2: lbService(["http://localhost:8080"]),
        },
      },
    },
  },
  {
    desc: "one app without port",
    apps: [app({ id: "/app", ports: [80, 81], tasks: [localhostTask()] })],
    expected: {},
  },
  {
    desc: "one app without port with middleware",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask()],
      labels: { "traefik.http.middlewares.Middleware1.basicauth.users": USERS },
    })],
    expected: {},
  },
  {
    desc: "one app with traefik.enable=false",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask()],
      labels: { "traefik.enable": "false" },
    })],
    expected: {},
  },
  {
    desc: "one app with non matching constraint",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: { "traefik.tags": "foo" },
    })],
    constraints: `Label("traefik.tags", "bar")`,
    expected: {},
  },
  {
    desc: "one app with non matching marathon constraint",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      constraints: [["rack_id", "CLUSTER", "rack-1"]],
    })],
    constraints: `MarathonConstraint("rack_id:CLUSTER:rack-2")`,
    expected: {},
  },
  {
    desc: "one app with matching marathon constraint",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      constraints: [["rack_id", "CLUSTER", "rack-1"]],
    })],
    constraints: `MarathonConstraint("rack_id:CLUSTER:rack-1")`,
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with matching constraint",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: { "traefik.tags": "bar" },
    })],
    constraints: `Label("traefik.tags", "bar")`,
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with group as subdomain rule",
    defaultRule:
      `Host("{{ .Name | trimPrefix "/" | splitList "/" | strsToItfs | reverse | join "." }}.marathon.localhost")`,
    apps: [app({ id: "/a/b/app", ports: [80, 81], tasks: [localhostTask({ ports: [80, 81] })] })],
    expected: {
      http: {
        routers: { a_b_app: httpRouter("a_b_app", `Host("app.b.a.marathon.localhost")`) },
        services: { a_b_app: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["a_b_app"],
  },
  {
    desc: "one app with tcp labels",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.tcp.routers.foo.rule": "HostSNI(`foo.bar`)",
        "traefik.tcp.routers.foo.tls": "true",
      },
    })],
    expected: {
      tcp: {
        routers: { foo: { service: "app", rule: "HostSNI(`foo.bar`)", tls: {}, ruleSyntax: "v2" } },
        services: { app: streamService(["localhost:80"], { terminationDelay: 100 }) },
      },
    },
  },
  {
    desc: "one app with udp labels",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: { "traefik.udp.routers.foo.entrypoints": "mydns" },
    })],
    expected: {
      udp: {
        routers: { foo: { service: "app", entryPoints: ["mydns"] } },
        services: { app: streamService(["localhost:80"]) },
      },
    },
  },
  {
    desc: "one app with tcp labels without rule",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: { "traefik.tcp.routers.foo.tls": "true" },
    })],
    expected: {
      tcp: { services: { app: streamService(["localhost:80"], { terminationDelay: 100 }) } },
    },
  },
  {
    desc: "one app with tcp labels with port",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.tcp.routers.foo.rule": "HostSNI(`foo.bar`)",
        "traefik.tcp.routers.foo.tls": "true",
        "traefik.tcp.services.foo.loadbalancer.server.port": "8080",
      },
    })],
    expected: {
      tcp: {
        routers: { foo: { service: "foo", rule: "HostSNI(`foo.bar`)", tls: {}, ruleSyntax: "v2" } },
        services: { foo: streamService(["localhost:8080"], { terminationDelay: 100 }) },
      },
    },
  },
  {
    desc: "one app with udp labels with port",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.udp.routers.foo.entrypoints": "mydns",
        "traefik.udp.services.foo.loadbalancer.server.port": "8080",
      },
    })],
    expected: {
      udp: {
        routers: { foo: { service: "foo", entryPoints: ["mydns"] } },
        services: { foo: streamService(["localhost:8080"]) },
      },
    },
  },
  {
    desc: "one app with tcp labels with port, with termination delay",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.tcp.routers.foo.rule": "HostSNI(`foo.bar`)",
        "traefik.tcp.routers.foo.tls": "true",
        "traefik.tcp.services.foo.loadbalancer.server.port": "8080",
        "traefik.tcp.services.foo.loadbalancer.terminationdelay": "200",
      },
    })],
    expected: {
      tcp: {
        routers: { foo: { service: "foo", rule: "HostSNI(`foo.bar`)", tls: {}, ruleSyntax: "v2" } },
        services: { foo: streamService(["localhost:8080"], { terminationDelay: 200 }) },
      },
    },
  },
  {
    desc: "one app with tcp labels with port and http service",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.tcp.routers.foo.rule": "HostSNI(`foo.bar`)",
        "traefik.tcp.routers.foo.tls": "true",
        "traefik.tcp.services.foo.loadbalancer.server.port": "8080",
        "traefik.http.services.bar.loadbalancer.passhostheader": "true",
      },
    })],
    expected: {
      tcp: {
        routers: { foo: { service: "foo", rule: "HostSNI(`foo.bar`)", tls: {}, ruleSyntax: "v2" } },
        services: { foo: streamService(["localhost:8080"], { terminationDelay: 100 }) },
      },
      http: {
        routers: { app: httpRouter("bar", "Host(`app.marathon.localhost`)") },
        services: { bar: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with udp labels with port and http service",
    apps: [app({
      id: "/app",
      ports: [80, 81],
      tasks: [localhostTask({ ports: [80, 81] })],
      labels: {
        "traefik.udp.routers.foo.entrypoints": "mydns",
        "traefik.udp.services.foo.loadbalancer.server.port": "8080",
        "traefik.http.services.bar.loadbalancer.passhostheader": "true",
      },
    })],
    expected: {
      udp: {
        routers: { foo: { service: "foo", entryPoints: ["mydns"] } },
        services: { foo: streamService(["localhost:8080"]) },
      },
      http: {
        routers: { app: httpRouter("bar", "Host(`app.marathon.localhost`)") },
        services: { bar: lbService(["http://localhost:80"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "simple application with default generated certificate labels",
    apps: [app({
      id: "/app",
      ports: [80],
      tasks: [localhostTask({ ports: [80] })],
      labels: {
        "traefik.tls.stores.default.defaultgeneratedcert.resolver": "foobar",
        "traefik.tls.stores.default.defaultgeneratedcert.domain.main": "foobar",
        "traefik.tls.stores.default.defaultgeneratedcert.domain.sans": "foobar, fiibar",
      },
    })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:80"]) },
      },
      tls: {
        stores: {
          default: {
            defaultGeneratedCert: {
              resolver: "foobar",
              domain: { main: "foobar", sans: ["foobar", "fiibar"] },
            },
          },
        },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with IP per task uses the discovery port on the task IP",
    apps: [app({ id: "/app", ipAddress: ipAddrPerTask(88), tasks: [localhostTask()] })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://127.0.0.1:88"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
  {
    desc: "one app with a named port definition",
    apps: [app({
      id: "/app",
      portDefinitions: [{ port: 80, name: "fist-port" }, { port: 81, name: "second-port" }, {
        port: 82,
        name: "third-port",
      }],
      labels: { "traefik.http.services.app.loadbalancer.server.port": "name:third-port" },
      tasks: [localhostTask()],
    })],
    expected: {
      http: {
        routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
        services: { app: lbService(["http://localhost:82"]) },
      },
    },
    defaultRuleRouters: ["app"],
  },
];

for (const c of traefikCases) {
  Deno.test(`buildConfiguration() (Traefik case) ${c.desc}`, () => {
    const result = build(c.apps, {
      ...(c.constraints !== undefined ? { constraints: c.constraints } : {}),
      ...(c.defaultRule !== undefined ? { defaultRule: c.defaultRule } : {}),
    });
    deepEqual(result.config, expectedConfig(c.expected));
    deepEqual(result.defaultRuleRouters, c.defaultRuleRouters ?? []);
  });
}

// ---------------------------------------------------------------------------
// §10 scenarios: one test per row of the linking table.

interface Scenario {
  row: string;
  labels: Record<string, string>;
  http: { routers: Record<string, unknown>; services: string[] };
  tcp?: { routers: string[]; services: string[] };
}

const scenarios: Scenario[] = [
  {
    row: "none → router <app> with the default rule → service <app>",
    labels: {},
    http: {
      routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
      services: ["app"],
    },
  },
  {
    row: "1 service label S1, no router → router <app> (default rule) → S1",
    labels: { "traefik.http.services.S1.loadbalancer.passhostheader": "true" },
    http: {
      routers: { app: httpRouter("S1", "Host(`app.marathon.localhost`)") },
      services: ["S1"],
    },
  },
  {
    row: "2 service labels, no router → both services, no router",
    labels: {
      "traefik.http.services.S1.loadbalancer.passhostheader": "true",
      "traefik.http.services.S2.loadbalancer.passhostheader": "true",
    },
    http: { routers: {}, services: ["S1", "S2"] },
  },
  {
    row: "router R1 with a rule, no service labels → R1 → default service <app>",
    labels: { "traefik.http.routers.R1.rule": "Path(`/a`)" },
    http: { routers: { R1: httpRouter("app", "Path(`/a`)") }, services: ["app"] },
  },
  {
    row: "R1 with a rule, 1 service S1 → R1 → S1",
    labels: {
      "traefik.http.routers.R1.rule": "Path(`/a`)",
      "traefik.http.services.S1.loadbalancer.server.port": "80",
    },
    http: { routers: { R1: httpRouter("S1", "Path(`/a`)") }, services: ["S1"] },
  },
  {
    row: "R1 with a rule, 2 services, R1 names none → R1 removed, both services kept",
    labels: {
      "traefik.http.routers.R1.rule": "Path(`/a`)",
      "traefik.http.services.S1.loadbalancer.server.port": "80",
      "traefik.http.services.S2.loadbalancer.server.port": "81",
    },
    http: { routers: {}, services: ["S1", "S2"] },
  },
  {
    row: "R1 names S2, no rule, 2 services → R1 gets the default rule → S2",
    labels: {
      "traefik.http.routers.R1.service": "S2",
      "traefik.http.services.S1.loadbalancer.server.port": "80",
      "traefik.http.services.S2.loadbalancer.server.port": "81",
    },
    http: {
      routers: { R1: httpRouter("S2", "Host(`app.marathon.localhost`)") },
      services: ["S1", "S2"],
    },
  },
  {
    row: "TCP labels only → TCP part only, no HTTP router or service",
    labels: { "traefik.tcp.routers.T.rule": "HostSNI(`*`)" },
    http: { routers: {}, services: [] },
    tcp: { routers: ["T"], services: ["app"] },
  },
  {
    row: "TCP labels plus a single HTTP service label → router <app> with the default rule",
    labels: {
      "traefik.tcp.routers.T.rule": "HostSNI(`*`)",
      "traefik.http.services.S1.loadbalancer.server.port": "80",
    },
    http: {
      routers: { app: httpRouter("S1", "Host(`app.marathon.localhost`)") },
      services: ["S1"],
    },
    tcp: { routers: ["T"], services: ["app"] },
  },
  {
    row: "TCP/UDP labels plus an HTTP middleware label only → default HTTP service and router",
    labels: {
      "traefik.udp.routers.U.entrypoints": "dns",
      "traefik.http.middlewares.m.inflightreq.amount": "1",
    },
    http: {
      routers: { app: httpRouter("app", "Host(`app.marathon.localhost`)") },
      services: ["app"],
    },
  },
  {
    row: "a service whose port can't be resolved for any task → whole app dropped",
    labels: {
      "traefik.http.services.S1.loadbalancer.server.port": "80",
      "traefik.http.services.S2.loadbalancer.server.port": "index:5",
    },
    http: { routers: {}, services: [] },
  },
];

for (const s of scenarios) {
  Deno.test(`buildConfiguration() §10 scenario: ${s.row}`, () => {
    const { config } = build([
      app({ id: "/app", labels: s.labels, tasks: [localhostTask({ ports: [80, 81] })] }),
    ]);
    deepEqual(config.http?.routers, s.http.routers);
    deepEqual(Object.keys(config.http?.services ?? {}).sort(), s.http.services);
    deepEqual(Object.keys(config.tcp?.routers ?? {}), s.tcp?.routers ?? []);
    deepEqual(Object.keys(config.tcp?.services ?? {}), s.tcp?.services ?? []);
  });
}

// ---------------------------------------------------------------------------
// §4 pipeline order and filtering.

Deno.test("buildConfiguration() exposedByDefault=false keeps only apps with traefik.enable=true", () => {
  const apps = [
    app({
      id: "/on",
      labels: { "traefik.enable": "true" },
      tasks: [localhostTask({ ports: [80] })],
    }),
    app({ id: "/off", tasks: [localhostTask({ ports: [80] })] }),
  ];
  const result = build(apps, { exposedByDefault: false });
  deepEqual(Object.keys(result.config.http!.services!), ["on"]);
  const off = result.diagnostics.find((d) => d.appId === "/off");
  equal(off?.severity, "info");
  ok(off?.message.includes("exposedByDefault is false"));
});

const enableCases: Array<{ value: string; exposedByDefault: boolean; kept: boolean }> = [
  { value: "true", exposedByDefault: true, kept: true },
  { value: "false", exposedByDefault: true, kept: false },
  { value: "true", exposedByDefault: false, kept: true },
  { value: "T", exposedByDefault: false, kept: true },
  { value: "1", exposedByDefault: false, kept: true },
  { value: "False", exposedByDefault: true, kept: false },
  { value: "0", exposedByDefault: true, kept: false },
];
for (const c of enableCases) {
  Deno.test(`buildConfiguration() traefik.enable=${c.value} with exposedByDefault=${c.exposedByDefault}`, () => {
    const { config } = build(
      [app({
        id: "/app",
        labels: { "traefik.enable": c.value },
        tasks: [localhostTask({ ports: [80] })],
      })],
      { exposedByDefault: c.exposedByDefault },
    );
    equal(Object.keys(config.http!.services!).length, c.kept ? 1 : 0);
  });
}

const droppingProviderLabels: Array<[string, Record<string, string>, string]> = [
  ["a non-boolean traefik.enable", { "traefik.enable": "yes" }, "is not a boolean"],
  [
    "the misspelled traefik.enabled (issue 647)",
    { "traefik.enabled": "true" },
    "unknown option 'enabled'",
  ],
  [
    "the routing docs' misspelling ipadressidx",
    { "traefik.marathon.ipadressidx": "0" },
    "unknown option",
  ],
  ["a non-integer ipaddressidx", { "traefik.marathon.ipaddressidx": "one" }, "is not an integer"],
];
for (const [desc, labels, fragment] of droppingProviderLabels) {
  Deno.test(`buildConfiguration() drops an app with ${desc}`, () => {
    const result = build([app({ id: "/app", labels, tasks: [localhostTask({ ports: [80] })] })]);
    deepEqual(result.config, expectedConfig());
    const d = result.diagnostics.find((x) => x.appId === "/app");
    equal(d?.severity, "error");
    ok(d?.message.includes(fragment), d?.message);
  });
}

Deno.test("buildConfiguration() checks enable before constraints (enable=false wins over a match)", () => {
  const result = build(
    [app({
      id: "/app",
      labels: { "traefik.enable": "false", env: "prod" },
      tasks: [localhostTask({ ports: [80] })],
    })],
    { constraints: `Label("env", "prod")` },
  );
  deepEqual(result.config, expectedConfig());
  ok(result.diagnostics[0]!.message.includes("enable is false"));
});

Deno.test("buildConfiguration() drops every app, with a diagnostic each, when the constraints expression is invalid", () => {
  const apps = ["/a", "/b"].map((id) => app({ id, tasks: [localhostTask({ ports: [80] })] }));
  const result = build(apps, { constraints: `Label("a")` });
  deepEqual(result.config, expectedConfig());
  deepEqual(result.diagnostics.map((d) => [d.appId, d.severity]), [["/a", "error"], [
    "/b",
    "error",
  ]]);
  ok(result.diagnostics[0]!.message.includes("providers.marathon.constraints"));
});

Deno.test("buildConfiguration() matches constraints against all labels and Marathon constraints", () => {
  const apps = [
    app({ id: "/a", labels: { team: "ops" }, tasks: [localhostTask({ ports: [80] })] }),
    app({
      id: "/b",
      constraints: [["hostname", "UNIQUE"]],
      tasks: [localhostTask({ ports: [80] })],
    }),
    app({ id: "/c", tasks: [localhostTask({ ports: [80] })] }),
  ];
  const { config } = build(apps, {
    constraints: `LabelRegex("team", "^op") || MarathonConstraint("hostname:UNIQUE")`,
  });
  deepEqual(Object.keys(config.http!.services!).sort(), ["a", "b"]);
});

Deno.test("buildConfiguration() exposes synthetic constraint labels to the default rule template", () => {
  const { config } = build(
    [app({
      id: "/a",
      constraints: [["rack", "LIKE", "r1"]],
      tasks: [localhostTask({ ports: [80] })],
    })],
    {
      defaultRule:
        'Host(`{{ index .Labels "Traefik-Marathon-505F9E15-BDC7-45E7-828D-C06C7BAB8091-0" | replace ":" "-" | lower }}`)',
    },
  );
  equal((config.http!.routers!.a as { rule: string }).rule, "Host(`rack-like-r1`)");
});

const droppingRoutingLabels: Array<[string, Record<string, string>, string]> = [
  ["an unknown router option", { "traefik.http.routers.r.foo": "x" }, "unknown option 'foo'"],
  ["an empty segment", { "traefik.http.routers..rule": "x" }, "empty segment"],
  ["a non-integer priority", { "traefik.http.routers.r.priority": "x" }, "is not an integer"],
  [
    "a root in the wrong case",
    { "Traefik.http.routers.r.rule": "Host(`a`)" },
    "invalid label root 'Traefik'",
  ],
  [
    "an unknown middleware type",
    { "traefik.http.middlewares.m.nosuch.x": "1" },
    "unknown option 'nosuch'",
  ],
  ["a middleware option of the wrong type", {
    "traefik.http.middlewares.m.inflightreq.amount": "many",
  }, "integer"],
];
for (const [desc, labels, fragment] of droppingRoutingLabels) {
  Deno.test(`buildConfiguration() drops the whole app on ${desc}`, () => {
    const result = build([app({
      id: "/app",
      labels: { ...labels, "traefik.http.routers.ok.rule": "Host(`ok`)" },
      tasks: [localhostTask({ ports: [80] })],
    })]);
    deepEqual(result.config, expectedConfig());
    ok(
      result.diagnostics.some((d) => d.appId === "/app" && d.message.includes(fragment)),
      JSON.stringify(result.diagnostics),
    );
  });
}

Deno.test("buildConfiguration() ignores labels outside the decoded prefixes, including other TLS stores", () => {
  const { config } = build([app({
    id: "/app",
    labels: {
      "traefik.tls.stores.other.defaultgeneratedcert.resolver": "x",
      "traefik.tags": "a",
      "other": "b",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.tls, { stores: {} });
  equal(Object.keys(config.http!.routers!).length, 1);
});

// ---------------------------------------------------------------------------
// Labels through the whole pipeline.

Deno.test("buildConfiguration() decodes router options case-insensitively and keeps object names", () => {
  const { config } = build([app({
    id: "/app",
    labels: {
      "traefik.http.routers.MyRouter.Rule": "Host(`a`)",
      "traefik.http.routers.MyRouter.EntryPoints": "web, websecure",
      "traefik.http.routers.MyRouter.PRIORITY": "+7",
      "traefik.http.routers.MyRouter.tls.domains[0].main": "a.com",
      "traefik.http.routers.MyRouter.tls.domains[0].sans": "b.a.com,c.a.com",
      "traefik.http.routers.MyRouter.tls.certresolver": "le",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.http!.routers, {
    MyRouter: httpRouter("app", "Host(`a`)", {
      entryPoints: ["web", "websecure"],
      priority: 7,
      tls: { domains: [{ main: "a.com", sans: ["b.a.com", "c.a.com"] }], certResolver: "le" },
    }),
  });
});

Deno.test("buildConfiguration() gives label-created objects Traefik's defaults and keeps durations as strings", () => {
  const { config } = build([app({
    id: "/app",
    labels: {
      "traefik.http.services.s.loadbalancer.healthcheck.path": "/health",
      "traefik.http.services.s.loadbalancer.healthcheck.interval": "10s",
      "traefik.http.services.s.loadbalancer.healthcheck.headers.X-Probe": "pacer",
      "traefik.http.services.s.loadbalancer.sticky.cookie": "true",
      "traefik.http.services.s.loadbalancer.responseforwarding.flushinterval": "100ms",
      "traefik.tcp.services.t.loadbalancer.proxyprotocol": "",
      "traefik.tcp.routers.t.rule": "HostSNI(`*`)",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.http!.services!.s, {
    loadBalancer: {
      passHostHeader: true,
      healthCheck: {
        followRedirects: true,
        path: "/health",
        interval: "10s",
        headers: { "X-Probe": "pacer" },
      },
      sticky: { cookie: {} },
      responseForwarding: { flushInterval: "100ms" },
      servers: [{ url: "http://localhost:80" }],
    },
  });
  deepEqual(
    config.tcp!.services!.t,
    streamService(["localhost:80"], { terminationDelay: 100, proxyProtocol: { version: 2 } }),
  );
});

Deno.test("buildConfiguration() labelPrefix replaces traefik everywhere", () => {
  const result = build(
    [
      app({
        id: "/app",
        labels: {
          "pacer.enable": "true",
          "pacer.http.routers.r.rule": "Host(`p`)",
          "traefik.http.routers.ignored.rule": "Host(`t`)",
        },
        tasks: [localhostTask({ ports: [80] })],
      }),
      app({
        id: "/bad",
        labels: { "pacer.marathon.nope": "1" },
        tasks: [localhostTask({ ports: [80] })],
      }),
    ],
    { labelPrefix: "pacer", exposedByDefault: false },
  );
  deepEqual(result.config.http!.routers, { r: httpRouter("app", "Host(`p`)") });
  ok(
    result.diagnostics.some((d) => d.appId === "/bad" && d.message.includes("pacer.marathon.nope")),
  );
});

Deno.test("buildConfiguration() decodes every middleware of the registry, aliases and plugins included", () => {
  const { config } = build([app({
    id: "/app",
    labels: {
      "traefik.http.middlewares.auth.basicauth.users": "a:x, b:y",
      "traefik.http.middlewares.auth.basicauth.removeheader": "TRUE",
      "traefik.http.middlewares.zip.compress": "true",
      "traefik.http.middlewares.hdr.headers.customrequestheaders.X-Env": "prod",
      "traefik.http.middlewares.hdr.headers.stsseconds": "31536000",
      "traefik.http.middlewares.rt.retry.attempts": "3",
      "traefik.http.middlewares.rt.retry.initialinterval": "100ms",
      "traefik.http.middlewares.ip.ipwhitelist.sourcerange": "10.0.0.0/8",
      "traefik.http.middlewares.lim.inflightreq.sourcecriterion.ipstrategy": "true",
      "traefik.http.middlewares.lim.inflightreq.amount": "10",
      "traefik.http.middlewares.rb.plugin.rewriteBody.lastModified": "true",
      "traefik.http.middlewares.rb.plugin.rewriteBody.rewrites[0].regex": "foo",
      "traefik.http.middlewares.rb.plugin.rewriteBody.rewrites[0].replacement": "bar",
      "traefik.http.middlewares.rb.plugin.rewriteBody.ratio": "0.5",
      "traefik.http.middlewares.nop.plugin.noOptions": "true",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.http!.middlewares, {
    auth: { basicAuth: { users: ["a:x", "b:y"], removeHeader: true } },
    zip: { compress: {} },
    hdr: { headers: { customRequestHeaders: { "X-Env": "prod" }, stsSeconds: 31536000 } },
    rt: { retry: { attempts: 3, initialInterval: "100ms" } },
    ip: { ipWhiteList: { sourceRange: ["10.0.0.0/8"] } },
    lim: { inFlightReq: { amount: 10, sourceCriterion: { ipStrategy: {} } } },
    rb: {
      plugin: {
        rewriteBody: {
          lastModified: true,
          rewrites: [{ regex: "foo", replacement: "bar" }],
          ratio: 0.5,
        },
      },
    },
    nop: { plugin: { noOptions: {} } },
  });
});

Deno.test("buildConfiguration() decodes a label for each built-in middleware of builtinRegistry()", async () => {
  const { builtinRegistry } = await import("../../../src/middleware/builtins.ts");
  const { describeSchema } = await import("../../../src/config/schema_walk.ts");
  const builtins = builtinRegistry();
  for (const { type, definition } of builtins.builtins()) {
    const node = describeSchema(definition.config);
    if (node.kind !== "object") continue;
    // Pick a string, number or boolean option and give it a value of its type.
    for (const { key, schema } of node.fields.values()) {
      const leaf = describeSchema(schema);
      if (leaf.kind !== "leaf" || !["string", "boolean", "number"].includes(leaf.type)) continue;
      const raw = leaf.type === "boolean" ? "true" : leaf.type === "number" ? "2" : "abc";
      const result = buildConfiguration(
        [app({
          id: "/app",
          labels: {
            [`traefik.http.middlewares.m.${type.toLowerCase()}.${key.toLowerCase()}`]: raw,
          },
          tasks: [localhostTask({ ports: [80] })],
        })],
        {},
        { now: NOW, registry: builtins },
      );
      const entry =
        (result.config.http!.middlewares as Record<string, Record<string, Record<string, unknown>>>)
          .m;
      const expected = leaf.type === "boolean" ? true : leaf.type === "number" ? 2 : "abc";
      deepEqual(entry, { [type]: { [key]: expected } }, `${type}.${key}`);
      break;
    }
  }
});

Deno.test("buildConfiguration() decodes TCP middlewares of the schema", () => {
  const { config } = build([app({
    id: "/app",
    labels: {
      "traefik.tcp.routers.t.rule": "HostSNI(`*`)",
      "traefik.tcp.middlewares.a.ipallowlist.sourcerange": "10.0.0.0/8, 192.168.0.0/16",
      "traefik.tcp.middlewares.b.inflightconn.amount": "5",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.tcp!.middlewares, {
    a: { ipAllowList: { sourceRange: ["10.0.0.0/8", "192.168.0.0/16"] } },
    b: { inFlightConn: { amount: 5 } },
  });
});

Deno.test("buildConfiguration() keeps a label-defined weighted service (Traefik panics on it)", () => {
  const { config, diagnostics } = build([app({
    id: "/app",
    labels: {
      "traefik.http.services.canary.weighted.services[0].name": "v1@file",
      "traefik.http.services.canary.weighted.services[0].weight": "3",
      "traefik.http.services.canary.weighted.services[1].name": "v2@file",
      "traefik.http.routers.r.rule": "Host(`c`)",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.http!.services, {
    canary: { weighted: { services: [{ name: "v1@file", weight: 3 }, { name: "v2@file" }] } },
  });
  deepEqual(config.http!.routers, { r: httpRouter("canary", "Host(`c`)") });
  deepEqual(diagnostics, []);
});

Deno.test("buildConfiguration() keeps a label-defined mirroring service, its keys canonical", () => {
  const { config, diagnostics } = build([app({
    id: "/app",
    labels: {
      "traefik.http.services.shadow.mirroring.service": "v1@file",
      "traefik.http.services.shadow.mirroring.mirrorbody": "false",
      "traefik.http.services.shadow.mirroring.maxbodysize": "1024",
      "traefik.http.services.shadow.mirroring.mirrors[0].name": "v2@file",
      "traefik.http.services.shadow.mirroring.mirrors[0].percent": "10",
      "traefik.http.routers.r.rule": "Host(`s`)",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(config.http!.services, {
    shadow: {
      mirroring: {
        service: "v1@file",
        mirrorBody: false,
        maxBodySize: 1024,
        mirrors: [{ name: "v2@file", percent: 10 }],
      },
    },
  });
  deepEqual(diagnostics, []);
});

// ---------------------------------------------------------------------------
// Routers and the default rule.

Deno.test("buildConfiguration() gives every router without a rule the default rule", () => {
  const result = build([app({
    id: "/my_group/my.app",
    labels: {
      "traefik.http.routers.a.middlewares": "m",
      "traefik.http.routers.b.rule": "Path(`/b`)",
      "traefik.http.routers.c.rule": "",
    },
    tasks: [localhostTask({ ports: [80] })],
  })], { defaultRule: "Host(`{{ normalize .Name }}`)" });
  deepEqual(result.config.http!.routers, {
    a: httpRouter("my_group_my.app", "Host(`my-group-my-app`)", { middlewares: ["m"] }),
    b: httpRouter("my_group_my.app", "Path(`/b`)"),
    c: httpRouter("my_group_my.app", "Host(`my-group-my-app`)"),
  });
  deepEqual(result.defaultRuleRouters, ["a", "c"]);
});

Deno.test("buildConfiguration() removes a router whose default rule fails or renders empty", () => {
  const failing = build([app({ id: "/app", tasks: [localhostTask({ ports: [80] })] })], {
    defaultRule: "{{ .Labels.missing | lower }}",
  });
  deepEqual(failing.config.http!.routers, {});
  ok(
    failing.diagnostics.some((d) =>
      d.item === "app" && d.message.includes("defaultRule template failed")
    ),
  );
  const empty = build([app({ id: "/app", tasks: [localhostTask({ ports: [80] })] })], {
    defaultRule: `{{ index .Labels "missing" }}`,
  });
  deepEqual(empty.config.http!.routers, {});
  ok(empty.diagnostics.some((d) => d.message.includes("empty rule")));
  equal(Object.keys(empty.config.http!.services!).length, 1);
});

Deno.test("buildConfiguration() throws a SyntaxError for a defaultRule that does not parse", () => {
  let error: unknown;
  try {
    build([], { defaultRule: "Host(`{{ nosuch .Name }}`)" });
  } catch (e) {
    error = e;
  }
  ok(error instanceof SyntaxError);
  ok((error as Error).message.includes(`function "nosuch" not defined`));
});

Deno.test("buildConfiguration() removes a TCP router without rule and a UDP router with several services", () => {
  const result = build([app({
    id: "/app",
    labels: {
      "traefik.tcp.routers.t.entrypoints": "tcp",
      "traefik.udp.routers.u.entrypoints": "dns",
      "traefik.udp.services.u1.loadbalancer.server.port": "53",
      "traefik.udp.services.u2.loadbalancer.server.port": "54",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(result.config.tcp!.routers, {});
  deepEqual(result.config.udp!.routers, {});
  deepEqual(Object.keys(result.config.udp!.services!), ["u1", "u2"]);
  ok(result.diagnostics.some((d) => d.item === "t" && d.message.includes("no rule")));
  ok(result.diagnostics.some((d) => d.item === "u" && d.message.includes("2 UDP services")));
});

// ---------------------------------------------------------------------------
// Tasks, servers and the app-drop rules.

Deno.test("buildConfiguration() uses only TASK_RUNNING tasks", () => {
  const states = [
    "TASK_STAGING",
    "TASK_STARTING",
    "TASK_RUNNING",
    "TASK_KILLING",
    "TASK_UNREACHABLE",
    "TASK_LOST",
  ];
  const { config } = build([app({
    id: "/app",
    tasks: states.map((state, i) => localhostTask({ id: `t${i}`, state, ports: [8000 + i] })),
  })]);
  deepEqual(config.http!.services!.app, lbService(["http://localhost:8002"]));
});

Deno.test("buildConfiguration() never reads Marathon health check results (Traefik issue 653)", () => {
  const t = {
    ...localhostTask({ ports: [80] }),
    healthCheckResults: [{ alive: false, consecutiveFailures: 9, taskId: "taskID" }],
  };
  const { config } = build([{
    ...app({ id: "/app", tasks: [t] }),
    healthChecks: [{ protocol: "HTTP" }],
  }]);
  deepEqual(config.http!.services!.app, lbService(["http://localhost:80"]));
});

Deno.test("buildConfiguration() skips a task without address and keeps the app when another task works", () => {
  const result = build([app({
    id: "/app",
    tasks: [localhostTask({ id: "noport" }), localhostTask({ id: "good", ports: [80] })],
  })]);
  deepEqual(result.config.http!.services!.app, lbService(["http://localhost:80"]));
  const d = result.diagnostics.find((x) => x.taskId === "noport");
  equal(d?.severity, "error");
  equal(d?.appId, "/app");
  ok(d?.message.includes("no port found"));
});

Deno.test("buildConfiguration() keeps duplicate URLs within one app", () => {
  const { config } = build([
    app({ id: "/app", tasks: [localhostTask({ ports: [80] }), localhostTask({ ports: [80] })] }),
  ]);
  deepEqual(config.http!.services!.app, lbService(["http://localhost:80", "http://localhost:80"]));
});

Deno.test("buildConfiguration() drops a pure UDP app whose service has no server (Traefik keeps it half-built)", () => {
  const result = build([app({
    id: "/dns",
    labels: { "traefik.udp.routers.u.entrypoints": "dns" },
    tasks: [localhostTask({ state: "TASK_STAGING", ports: [53] })],
  })]);
  deepEqual(result.config, expectedConfig());
  ok(
    result.diagnostics.some((d) =>
      d.appId === "/dns" && d.message.includes("no server for the UDP service dns")
    ),
  );
});

Deno.test("buildConfiguration() drops an app with TCP labels whose TCP service has no server, HTTP included", () => {
  const result = build([app({
    id: "/app",
    labels: {
      "traefik.tcp.routers.t.rule": "HostSNI(`*`)",
      "traefik.tcp.services.t.loadbalancer.server.port": "index:3",
      "traefik.http.routers.h.rule": "Host(`h`)",
    },
    tasks: [localhostTask({ ports: [80] })],
  })]);
  deepEqual(result.config, expectedConfig());
});

Deno.test("buildConfiguration() explains a dropped app whose tasks are not running", () => {
  const result = build([app({ id: "/app", tasks: [task0("TASK_STAGING"), task0(undefined)] })]);
  // A normal moment of every deploy: explained, but not an error.
  equal(result.diagnostics.filter((x) => x.severity === "error").length, 0);
  deepEqual(
    result.diagnostics.filter((x) => x.severity === "info").map((x) => x.message),
    [
      "Skipping task taskID of /app: its state is TASK_STAGING; only TASK_RUNNING tasks receive traffic",
      "Skipping task taskID of /app: its state is missing (Marathon before 1.1.2); only TASK_RUNNING tasks receive traffic",
      "Skipping app /app: no server for the HTTP service app: none of its 2 tasks is TASK_RUNNING",
    ],
  );
});

function task0(state: string | undefined) {
  const t = localhostTask({ ports: [80] });
  if (state === undefined) delete t.state;
  else t.state = state;
  return t;
}

// ---------------------------------------------------------------------------
// Readiness through the builder.

Deno.test("buildConfiguration() filters unready tasks only with respectReadinessChecks", () => {
  const apps = [app({
    id: "/app",
    deployments: ["d1"],
    readinessChecks: [{ timeoutSeconds: 10 }],
    readinessCheckResults: [{ taskId: "new", ready: false }, { taskId: "ready", ready: true }],
    tasks: [localhostTask({ id: "new", ports: [1] }), localhostTask({ id: "ready", ports: [2] })],
  })];
  deepEqual(
    build(apps).config.http!.services!.app,
    lbService(["http://localhost:1", "http://localhost:2"]),
  );
  const strict = build(apps, { respectReadinessChecks: true });
  deepEqual(strict.config.http!.services!.app, lbService(["http://localhost:2"]));
  ok(strict.diagnostics.some((d) => d.taskId === "new" && d.severity === "info"));
});

Deno.test("buildConfiguration() warns about an unparseable startedAt and treats the task as unready", () => {
  const result = build([app({
    id: "/app",
    deployments: ["d1"],
    readinessChecks: [{}],
    tasks: [localhostTask({ id: "bad", ports: [1], startedAt: "yesterday" })],
  })], { respectReadinessChecks: true });
  deepEqual(result.config, expectedConfig());
  ok(result.diagnostics.some((d) => d.taskId === "bad" && d.severity === "warning"));
});

// ---------------------------------------------------------------------------
// Merge (§12) through the builder.

Deno.test("buildConfiguration() merges in app-id order whatever the API order, de-duplicating URLs", () => {
  const mk = (id: string, ports: number[]) =>
    app({
      id,
      labels: { "traefik.http.services.shared.loadbalancer.server.port": "" },
      tasks: ports.map((p, i) => localhostTask({ id: `${id}.${i}`, ports: [p] })),
    });
  const { config } = build([mk("/b", [2, 1]), mk("/a", [1, 3])]);
  deepEqual(
    (config.http!.services!.shared as { loadBalancer: { servers: unknown } }).loadBalancer.servers,
    [
      { url: "http://localhost:1" },
      { url: "http://localhost:3" },
      { url: "http://localhost:2" },
    ],
  );
});

Deno.test("buildConfiguration() reports each object removed by a merge conflict", () => {
  const result = build(["/a", "/b"].map((id, i) =>
    app({
      id,
      labels: {
        "traefik.http.middlewares.m.inflightreq.amount": String(i + 1),
        "traefik.http.services.s.loadbalancer.passhostheader": String(i === 0),
        "traefik.tcp.routers.t.rule": `HostSNI(\`${id}\`)`,
        "traefik.tls.stores.default.defaultgeneratedcert.resolver": id,
      },
      tasks: [localhostTask({ ports: [80] })],
    })
  ));
  deepEqual(result.config.http!.middlewares, {});
  deepEqual(result.config.http!.services, {});
  deepEqual(result.config.tcp!.routers, {});
  deepEqual(result.config.tls, { stores: {} });
  // Routers pointing at the removed service stay (Traefik §15.8).
  deepEqual(Object.keys(result.config.http!.routers!).sort(), ["a", "b"]);
  const items = result.diagnostics.filter((d) => d.message.includes("defined multiple times")).map((
    d,
  ) => d.item).sort();
  deepEqual(items, ["default", "m", "s", "t"]);
});

Deno.test("buildConfiguration() removes every route when the last app is gone", () => {
  deepEqual(build([]).config, expectedConfig());
});

// ---------------------------------------------------------------------------
// Defensive input handling.

Deno.test("buildConfiguration() turns malformed apps and tasks into diagnostics, never throws", () => {
  const result = build([
    null,
    42,
    { labels: {} },
    { id: "/badlabels", labels: { a: 1 } },
    {
      id: "/badports",
      tasks: [{ id: "t", state: "TASK_RUNNING", host: "h", ports: ["80"] }, "junk"],
    },
    app({ id: "/good", tasks: [localhostTask({ ports: [80] })] }),
  ]);
  deepEqual(Object.keys(result.config.http!.services!), ["good"]);
  ok(result.diagnostics.some((d) => d.appId === "/badlabels" && d.message.includes("label 'a'")));
  ok(
    result.diagnostics.some((d) =>
      d.appId === "/badports" && d.taskId === "t" && d.message.includes("ports[0]")
    ),
  );
  equal(result.diagnostics.filter((d) => d.appId === undefined).length, 3);
});

Deno.test("buildConfiguration() confines an unexpected error to the app being built", () => {
  const broken = {
    schema: () => {
      throw new Error("boom");
    },
  } as unknown as typeof registry;
  const result = buildConfiguration(
    [app({ id: "/app", tasks: [localhostTask({ ports: [80] })] })],
    {},
    { now: NOW, registry: broken },
  );
  deepEqual(result.config, expectedConfig());
  ok(
    result.diagnostics.some((d) =>
      d.appId === "/app" && d.message.includes("internal error") && d.message.includes("boom")
    ),
  );
});

Deno.test("buildConfiguration() accepts parsed options as well as raw ones", async () => {
  const { marathonOptionsSchema } = await import("../../../src/provider/marathon/options.ts");
  const parsed = marathonOptionsSchema.parse({
    defaultRule: TEST_DEFAULT_RULE,
    dialerTimeout: "5s",
  });
  const apps = [app({ id: "/app", tasks: [localhostTask({ ports: [80] })] })];
  deepEqual(
    buildConfiguration(apps, parsed, { now: NOW, registry }).config,
    buildConfiguration(apps, { defaultRule: TEST_DEFAULT_RULE }, { now: NOW, registry }).config,
  );
});
