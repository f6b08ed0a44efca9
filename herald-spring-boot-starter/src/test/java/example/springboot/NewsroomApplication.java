package example.springboot;

import dev.herald.core.auth.ChannelAction;
import dev.herald.core.auth.ChannelAuthorizer;
import java.util.concurrent.CompletableFuture;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.userdetails.User;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.springframework.security.web.SecurityFilterChain;

/**
 * A Spring Boot application with Herald: form login (Spring Security, servlet sessions), a
 * transactional service that publishes after commit, Actuator. Herald authenticates WebSocket, SSE
 * and long-polling connections by the login session their request carries, with no code here.
 *
 * <p>Run it (after {@code ./mvnw -DskipTests install}) with {@code ./mvnw -pl
 * herald-spring-boot-starter test-compile org.codehaus.mojo:exec-maven-plugin:3.5.1:java
 * -Dexec.mainClass=example.springboot.NewsroomApplication -Dexec.classpathScope=test}, then log in
 * at http://localhost:8080 as alice / alice-password: the page connects to Herald on 8081.
 */
@SpringBootApplication
public class NewsroomApplication {
  public static void main(String[] args) {
    SpringApplication.run(NewsroomApplication.class, args);
  }

  @Bean
  SecurityFilterChain security(HttpSecurity http) throws Exception {
    return http.authorizeHttpRequests(
            requests ->
                requests
                    .requestMatchers("/actuator/health", "/actuator/health/**")
                    .permitAll()
                    .anyRequest()
                    .authenticated())
        .formLogin(Customizer.withDefaults())
        .logout(Customizer.withDefaults())
        .build();
  }

  @Bean
  InMemoryUserDetailsManager users() {
    return new InMemoryUserDetailsManager(
        User.withUsername("alice").password("{noop}alice-password").roles("EDITOR").build(),
        User.withUsername("bob").password("{noop}bob-password").roles("READER").build());
  }

  /**
   * The application's channel rules on top of Herald's namespace rules: everyone logged in may read
   * the news desk; only the server publishes (through {@link StoryService}).
   */
  @Bean
  ChannelAuthorizer channelRules() {
    return (principal, action, channel) ->
        CompletableFuture.completedFuture(
            action == ChannelAction.SUBSCRIBE && channel.value().equals(StoryService.CHANNEL));
  }
}
