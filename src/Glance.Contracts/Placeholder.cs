namespace Glance.Contracts;
