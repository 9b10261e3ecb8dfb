// A SCIM 2.0 service provider built on SCIMMY (npm `scimmy`, `scimmy-routers`,
// `express`), users in memory: the second third-party server of
// scripts/external-checks.sh. Prints its base URL; the bearer token is $TOKEN.
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const token = process.env.TOKEN;
const users = new Map();
let next = 1;
SCIMMY.Resources.declare(SCIMMY.Resources.User)
  .ingress((resource, instance) => {
    const now = new Date().toISOString();
    if (resource.id) {
      const old = users.get(resource.id);
      if (!old) throw new SCIMMY.Types.Error(404, null, `User ${resource.id} not found`);
      const updated = { ...instance, id: resource.id, meta: { ...old.meta, lastModified: now } };
      users.set(resource.id, updated);
      return updated;
    }
    for (const u of users.values()) {
      if (u.userName === instance.userName) throw new SCIMMY.Types.Error(409, "uniqueness", "userName taken");
    }
    const id = String(next++);
    const user = { ...instance, id, meta: { created: now, lastModified: now } };
    users.set(id, user);
    return user;
  })
  .egress((resource) => {
    if (resource.id) {
      const u = users.get(resource.id);
      if (!u) throw new SCIMMY.Types.Error(404, null, `User ${resource.id} not found`);
      return u;
    }
    const all = [...users.values()];
    return resource.filter ? resource.filter.match(all) : all;
  })
  .degress((resource) => {
    if (!users.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `User ${resource.id} not found`);
  });

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
  type: "bearer",
  docUri: "https://example.com/auth",
  handler: (request) => {
    if (request.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization failure");
    return "client";
  },
}));
const server = app.listen(0, "127.0.0.1", () => console.log(`http://127.0.0.1:${server.address().port}`));
