System.Console.WriteLine("glance");
