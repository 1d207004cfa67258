// The API explorer: Swagger UI on /v1/openapi.json. Without a key it shows the static document; once a key is
// authorized (apiKey or bearer scheme) the document is fetched again with the key, so the tenant's own entities
// appear. Authorization persists in this browser (localStorage), as Swagger UI's persistAuthorization does.
(function () {
  "use strict";
  var SPEC = "/v1/openapi.json";
  var key = null;

  function keyOf(auth) {
    if (!auth) return null;
    var schemes = ["apiKey", "bearer"];
    for (var i = 0; i < schemes.length; i++) {
      var a = auth[schemes[i]];
      if (a && typeof a.value === "string" && a.value.trim() !== "") return a.value.trim();
    }
    return null;
  }

  try {
    key = keyOf(JSON.parse(window.localStorage.getItem("authorized") || "null"));
  } catch (e) {
    key = null;
  }

  function reload(system) {
    system.specActions.updateUrl(SPEC);
    system.specActions.download(SPEC);
  }

  var RefetchWithKey = function () {
    return {
      statePlugins: {
        auth: {
          wrapActions: {
            authorize: function (original, system) {
              return function (payload) {
                var result = original(payload);
                var k = keyOf(payload);
                if (k && k !== key) {
                  key = k;
                  reload(system);
                }
                return result;
              };
            },
            logout: function (original, system) {
              return function (payload) {
                var result = original(payload);
                if (key !== null) {
                  key = null;
                  reload(system);
                }
                return result;
              };
            }
          }
        }
      }
    };
  };

  window.ui = window.SwaggerUIBundle({
    url: SPEC,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    validatorUrl: null,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [RefetchWithKey],
    layout: "BaseLayout",
    requestInterceptor: function (req) {
      if (req.loadSpec && key) {
        req.headers["X-Api-Key"] = key;
      }
      return req;
    }
  });
})();
