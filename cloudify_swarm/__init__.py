"""Docker Swarm plugin: cloudify.swarm.Manager, Microservice, Container and Port."""
